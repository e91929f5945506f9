package org.g2g.backend;

import org.g2g.model.Mask;

/**
 * A backend's packed form of one layer's connectivity (e.g. dense group blocks plus sparse
 * inter-group edges). Parameters of the layer, their gradients and optimizer state are
 * flat vectors of {@link #packedSize()} floats in this layout. Rebuilt after every DST update.
 * Positions inside the packed vector that are not active edges (holes in a dense block)
 * always hold 0 in weights and gradients.
 */
public interface LayerPlan extends AutoCloseable {
    Mask mask();

    int packedSize();

    /** Active edges (the FLOP-relevant count; holes excluded). */
    long activeEdges();

    /** Multiply-adds one forward pass costs per sample in this layout (holes included). */
    long macsPerSample();

    @Override
    default void close() {}
}
