package org.g2g.config;

/**
 * --grouping: how units are assigned to groups, layer by layer. MIXER is not a grouping of
 * its own: it alternates index (even layers) and interleaved (odd layers); the model
 * package turns a strategy into each layer's grouping.
 */
public enum GroupingStrategy implements Choice {
    MIXER, INDEX, INTERLEAVED, RANDOM;

    @Override public String toString() { return spelling(); }
}
