package org.g2g.train;

/** Observes a run (progress displays, sweeps, tests that interrupt a run). */
public interface TrainListener {
    /** After optimizer step {@code step} (1-based, counted over the whole run). */
    default void onStep(long step, int epoch, int batchInEpoch, int batchesPerEpoch, double samplesPerS) {}

    default void onEpoch(EpochMetrics m, int epochs) {}

    TrainListener NONE = new TrainListener() {};
}
