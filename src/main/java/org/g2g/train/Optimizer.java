package org.g2g.train;

import java.util.ArrayList;
import java.util.List;
import org.g2g.backend.Backend;
import org.g2g.backend.StepScalars;
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

    /** One step on every parameter w[j] (gradient g[j], state state[j]) at s's learning rate and step. */
    public void step(Backend be, List<Tensor> w, List<Tensor> g, List<Tensor[]> state, StepScalars s) {
        List<Tensor> s0 = new ArrayList<>(state.size());
        for (Tensor[] st : state) s0.add(st[0]);
        if (kind == OptimizerKind.ADAM) {
            List<Tensor> s1 = new ArrayList<>(state.size());
            for (Tensor[] st : state) s1.add(st[1]);
            be.adam(w, g, s0, s1, beta1, beta2, eps, weightDecay, s);
        } else {
            be.sgd(w, g, s0, momentum, nesterov, weightDecay, s);
        }
    }

    /** The step's scalars for this optimizer (Adam's bias corrections from its betas). */
    public StepScalars scalars(float lr, long t, int offset) { return StepScalars.of(lr, t, offset, beta1, beta2); }

    /** t is the 1-based count of steps taken, for Adam's bias correction. */
    public void step(Backend be, Tensor w, Tensor g, Tensor[] state, float lr, long t) {
        if (kind == OptimizerKind.ADAM) be.adam(w, g, state[0], state[1], lr, beta1, beta2, eps, weightDecay, t);
        else be.sgd(w, g, state[0], lr, momentum, nesterov, weightDecay);
    }
}
