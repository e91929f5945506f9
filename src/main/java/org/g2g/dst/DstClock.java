package org.g2g.dst;

/**
 * Where DST reports which part of a step it is in, so the trainer's phase timer charges
 * the time to Hebbian scoring or to the rewiring itself.
 */
public interface DstClock {
    /** From now on: computing scores (Hebbian correlations, the dense gradient). */
    void scoring();

    /** From now on: pruning, regrowing and re-packing. */
    void rewiring();

    /** A clock that measures nothing (tests, callers without a timer). */
    DstClock NONE = new DstClock() {
        @Override public void scoring() {}
        @Override public void rewiring() {}
    };
}
