package org.g2g.config;

/** --lr-schedule: the learning rate over training. */
public enum LrScheduleKind implements Choice {
    /** half-cosine decay to 0 over the run */
    COSINE,
    CONSTANT;

    @Override public String toString() { return spelling(); }
}
