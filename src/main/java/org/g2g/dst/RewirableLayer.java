package org.g2g.dst;

import org.g2g.backend.Backend;
import org.g2g.model.Mask;

/**
 * What dynamic sparse training needs of one layer: its shape and mask, its weights and
 * optimizer state as dense (out x in) copies, and a way to install a rewired mask. Kept
 * here so that {@code dst} does not depend on the trainer that implements it.
 */
public interface RewirableLayer {
    int in();

    int out();

    /** Whether DST rewires this layer (hidden layers of sparse models). */
    boolean sparse();

    Mask mask();

    float[] denseWeights(Backend be);

    float[][] denseState(Backend be);

    /** Installs a new mask with weights and optimizer state given densely. */
    void repack(Backend be, Mask newMask, float[] denseW, float[][] denseState);
}
