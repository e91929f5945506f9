package org.g2g.train;

/** Parts of a training step, for the phase split in summaries and profiles. */
public enum Phase {
    DATA, FORWARD, LOSS, INPUT_GRAD, WEIGHT_GRAD, OPTIMIZER, HEBBIAN, DST, EVAL,
    /** a training step recorded once and replayed as one CUDA graph: its phases cannot be told apart */
    GRAPH;

    public String key() { return name().toLowerCase(java.util.Locale.ROOT); }
}
