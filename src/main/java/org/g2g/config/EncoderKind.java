package org.g2g.config;

/** --encoder: the input front end. */
public enum EncoderKind implements Choice {
    /** the flattened pixels feed the first sparse layer */
    NONE,
    /** the paper's Fig. 1: one convolution per patch (kernel = stride = patch size), ReLU */
    PATCH;

    @Override public String toString() { return spelling(); }
}
