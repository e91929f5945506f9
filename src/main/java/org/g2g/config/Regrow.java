package org.g2g.config;

/** --regrow: the criterion that picks the inactive edges DST adds. */
public enum Regrow implements Choice {
    HEBBIAN, RANDOM, GRADIENT;

    @Override public String toString() { return spelling(); }
}
