package org.g2g.config;

/** --prune: the criterion that picks the active edges DST removes; NONE turns DST off. */
public enum Prune implements Choice {
    MAGNITUDE,
    RANDOM,
    HEBBIAN,
    /** a third of the budget each by magnitude, at random and by Hebbian score (spelled "three") */
    THIRDS {
        @Override public String spelling() { return "three"; }
    },
    NONE;

    @Override public String toString() { return spelling(); }
}
