package org.g2g.backend.cpu;

import static org.g2g.backend.cpu.Kernels.L;
import static org.g2g.backend.cpu.Kernels.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.g2g.backend.Tensor;

/** The CPU backend's Adam step over a flat vector, in Vector API lanes, split over the threads above 32k elements. */
final class VectorAdam {
    private final WorkPool pool;

    VectorAdam(WorkPool pool) { this.pool = pool; }

    /** Vector Adam, elementwise identical to {@link HostOps#adam} (same operation order, no fused multiply-add). */
    void adam(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
              float eps, float weightDecay, long t) {
        float[] W = CpuTensor.of(w), G = CpuTensor.of(g), M = CpuTensor.of(m), V = CpuTensor.of(v);
        float bc1 = (float) (1 - Math.pow(beta1, t));
        float bc2 = (float) (1 - Math.pow(beta2, t));
        float step = lr / bc1;
        float invSqrtBc2 = (float) (1.0 / Math.sqrt(bc2));
        float ob1 = 1 - beta1, ob2 = 1 - beta2;
        int n = (int) w.size();
        int wo = CpuTensor.off(w), go = CpuTensor.off(g), mo = CpuTensor.off(m), vo = CpuTensor.off(v);
        int parts = n < 1 << 15 ? 1 : pool.threads;
        java.util.function.IntConsumer body = part -> {
            int k0 = (int) ((long) n * part / parts) / L * L;
            int k1 = part == parts - 1 ? n : (int) ((long) n * (part + 1) / parts) / L * L;
            int k = k0;
            for (; k + L <= k1; k += L) {
                FloatVector wk = FloatVector.fromArray(S, W, wo + k);
                FloatVector gk = FloatVector.fromArray(S, G, go + k).add(wk.mul(weightDecay));
                FloatVector mk = FloatVector.fromArray(S, M, mo + k).mul(beta1).add(gk.mul(ob1));
                FloatVector vk = FloatVector.fromArray(S, V, vo + k).mul(beta2).add(gk.mul(ob2).mul(gk));
                mk = mk.blend(0f, mk.abs().compare(VectorOperators.LT, 1e-30f));
                vk = vk.blend(0f, vk.compare(VectorOperators.LT, 1e-30f));
                mk.intoArray(M, mo + k);
                vk.intoArray(V, vo + k);
                wk.sub(mk.mul(step).div(vk.sqrt().mul(invSqrtBc2).add(eps))).intoArray(W, wo + k);
            }
            HostOps.adamRange(W, wo, G, go, M, mo, V, vo, k, k1, beta1, beta2, eps, weightDecay, step, invSqrtBc2);
        };
        if (parts == 1) body.accept(0);
        else pool.run(p -> { if (p < parts) body.accept(p); });
    }
}
