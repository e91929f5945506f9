package org.g2g.train;

/**
 * The time a run has cost, summed over the processes that trained it (a resumed run carries
 * its earlier sessions' figures in the checkpoint):
 *
 * @param trainSeconds  training steps only (no evaluation, no checkpoint writes)
 * @param wallSeconds   wall time of each session from its start to its last checkpoint
 *                      (data load, evaluation and writes included)
 * @param steadySeconds training time after each session's first {@link #WARMUP_STEPS} steps
 * @param steadySamples samples trained in that time
 */
public record RunClock(double trainSeconds, double wallSeconds, double steadySeconds, long steadySamples) {
    /**
     * Steps at the start of every process left out of the throughput: the JIT compiles the hot
     * loops (and a GPU loads its modules and records its graphs) during the first steps, which
     * are several times slower than the rest on a 2-core CPU.
     */
    public static final int WARMUP_STEPS = 20;

    public static final RunClock ZERO = new RunClock(0, 0, 0, 0);

    /** Samples per second after warm-up; NaN when no session trained past its warm-up. */
    public double steadySamplesPerSecond() {
        return steadySamples > 0 && steadySeconds > 0 ? steadySamples / steadySeconds : Double.NaN;
    }

    /**
     * Adds one epoch of `steps` steps and epochSamples samples taking epochNanos (device
     * synchronised), in a session that had run stepsBefore steps when the epoch began. When the
     * session's WARMUP_STEPS-th step fell in this epoch, warmEndSamples and warmEndNanos are the
     * samples and time since the epoch's start at the end of that step; only what follows counts
     * as steady.
     */
    public RunClock plusEpoch(long stepsBefore, int steps, int epochSamples, long warmEndSamples, long warmEndNanos,
                              long epochNanos) {
        double secs = epochNanos / 1e9;
        long stepsAfter = stepsBefore + steps;
        double ss = steadySeconds;
        long sn = steadySamples;
        if (stepsAfter >= WARMUP_STEPS) {
            boolean warmedHere = stepsBefore < WARMUP_STEPS; // the warm-up ended inside this epoch
            ss += (epochNanos - (warmedHere ? warmEndNanos : 0)) / 1e9;
            sn += epochSamples - (warmedHere ? warmEndSamples : 0);
        }
        return new RunClock(trainSeconds + secs, wallSeconds, ss, sn);
    }

    public RunClock withWall(double wall) { return new RunClock(trainSeconds, wall, steadySeconds, steadySamples); }
}
