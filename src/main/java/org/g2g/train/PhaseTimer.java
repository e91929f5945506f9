package org.g2g.train;

import org.g2g.backend.Backend;
import org.g2g.dst.DstClock;

/**
 * Wall time per phase. With sync on, each phase waits for the device first, so GPU time is
 * charged to the phase that queued it (the profiler's mode); with sync off it only reads
 * the clock, which costs nothing on the CPU backend.
 */
public final class PhaseTimer implements DstClock {
    private final long[] nanos = new long[Phase.values().length];
    private final Backend backend;
    private final boolean sync;
    private Phase current;
    private long start;

    public PhaseTimer(Backend backend, boolean sync) {
        this.backend = backend;
        this.sync = sync;
    }

    public void begin(Phase p) {
        end();
        current = p;
        start = System.nanoTime();
    }

    public void end() {
        if (current == null) return;
        if (sync) backend.sync();
        nanos[current.ordinal()] += System.nanoTime() - start;
        current = null;
    }

    /** DST computing scores: charged to {@link Phase#HEBBIAN}. */
    @Override public void scoring() { begin(Phase.HEBBIAN); }

    /** DST pruning, regrowing, re-packing: charged to {@link Phase#DST}. */
    @Override public void rewiring() { begin(Phase.DST); }

    public long nanos(Phase p) { return nanos[p.ordinal()]; }

    /**
     * True in the profiler's mode: phases are then timed one by one, so work that a device would
     * fuse across phases (a layer's weight and input gradients) is queued phase by phase.
     */
    public boolean waitsForDevice() { return sync; }

    public void reset() { java.util.Arrays.fill(nanos, 0); current = null; }
}
