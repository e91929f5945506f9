package org.g2g.train;

import org.g2g.backend.Backend;
import org.g2g.backend.Tensor;
import org.g2g.config.OptimizerKind;
import org.g2g.config.RunConfig;

/**
 * Adam or SGD over flat parameter vectors. A parameter has {@link #slots()} state vectors of
 * its own shape (Adam: m, v; SGD: the momentum buffer); DST re-packs them with the weights.
 */
public record Optimizer(OptimizerKind kind, float beta1, float beta2, float eps, float momentum,
                        boolean nesterov, float weightDecay) {

    public static Optimizer from(RunConfig c) {
        return new Optimizer(c.optimizerKind(), 0.9f, 0.999f, 1e-8f, (float) c.momentum(), c.nesterov(),
                (float) c.weightDecay());
    }

    public int slots() { return kind == OptimizerKind.ADAM ? 2 : 1; }

    /** t is the 1-based count of steps taken, for Adam's bias correction. */
    public void step(Backend be, Tensor w, Tensor g, Tensor[] state, float lr, long t) {
        if (kind == OptimizerKind.ADAM) be.adam(w, g, state[0], state[1], lr, beta1, beta2, eps, weightDecay, t);
        else be.sgd(w, g, state[0], lr, momentum, nesterov, weightDecay);
    }
}
