package org.g2g.train;

/** Observes a run (progress displays, sweeps, tests that interrupt a run). */
public interface TrainListener {
    /** After optimizer step {@code step} (1-based, counted over the whole run). */
    default void onStep(long step, int epoch, int batchInEpoch, int batchesPerEpoch, double samplesPerS) {}

    default void onEpoch(EpochMetrics m, int epochs) {}

    /** Every --log-every steps (and at the end of an epoch): the metrics of the steps since the last call. */
    default void onWindow(StepMetrics m) {}

    TrainListener NONE = new TrainListener() {};
}
