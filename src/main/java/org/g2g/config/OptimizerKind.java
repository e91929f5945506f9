package org.g2g.config;

/** --optimizer. */
public enum OptimizerKind implements Choice {
    ADAM, SGD;

    @Override public String toString() { return spelling(); }
}
