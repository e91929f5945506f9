package org.g2g.backend;

/** How the activation-correlation product behind Hebbian regrowth is normalised. */
public enum Correlation {
    /** score[o][i] = <y_o, x_i> / (|y_o| |x_i| + 1e-8): cosine, not centred (paper default, inferred). */
    COSINE,
    /** Pearson: like cosine after subtracting each unit's mean over the batch. */
    PEARSON,
    /** Plain product sum_b y[o][b] x[i][b]: with y = dL/dy it is RigL's dense weight gradient. */
    RAW
}
