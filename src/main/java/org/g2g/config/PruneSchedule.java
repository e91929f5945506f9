package org.g2g.config;

/** --prune-schedule: the prune fraction over training. */
public enum PruneSchedule implements Choice {
    CONSTANT,
    /** decayed to 0 at the end of training along a half cosine (RigL) */
    COSINE;

    @Override public String toString() { return spelling(); }
}
