package org.g2g.config;

/** --hebbian: how the activation correlation behind Hebbian scores is normalised. */
public enum HebbianCorrelation implements Choice {
    /** not centred (the paper's default, inferred) */
    COSINE,
    /** centred: cosine after subtracting each unit's batch mean */
    PEARSON;

    @Override public String toString() { return spelling(); }
}
