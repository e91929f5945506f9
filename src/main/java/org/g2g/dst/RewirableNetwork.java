package org.g2g.dst;

import org.g2g.backend.Backend;
import org.g2g.backend.Tensor;

/**
 * What dynamic sparse training needs of a network: its layers and, after a training step,
 * that step's activations and output gradients (feature-major, units x batch).
 */
public interface RewirableNetwork {
    Backend backend();

    int depth();

    RewirableLayer layer(int l);

    /** The input of layer l (l = 0: the batch) or, for l = depth(), the logits. */
    Tensor activation(int l);

    /** dL/dz of layer l - 1's output, i.e. of activation(l) before the ReLU; l >= 1. */
    Tensor gradient(int l);
}
