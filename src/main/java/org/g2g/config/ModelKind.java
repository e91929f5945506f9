package org.g2g.config;

/** --model: the connectivity of the hidden layers. */
public enum ModelKind implements Choice {
    /** group-to-group sparse: dense blocks inside groups, p' across them; rewired by DST */
    G2G,
    /** fully connected, no DST */
    DENSE,
    /** Erdos-Renyi sparse: every edge kept with the same probability; rewired by DST */
    ER;

    /** Whether the hidden layers are sparse and take part in DST. */
    public boolean sparse() { return this != DENSE; }

    @Override public String toString() { return spelling(); }
}
