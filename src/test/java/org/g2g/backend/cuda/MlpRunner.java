package org.g2g.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.model.Mask;

/**
 * A minimal MLP training step written only against the {@link Backend} interface: forward with
 * ReLU, softmax cross-entropy, backward, Adam; batches gathered from a device-resident dataset.
 * It exists so the benchmark and the whole-training parity test run the same step on any
 * backend; the real trainer lives in org.g2g.train.
 */
final class MlpRunner implements AutoCloseable {
    final Backend be;
    final List<Layer> layers = new ArrayList<>();
    final Tensor stats;
    private final Tensor[] acts, grads;
    private final IntVector yb;
    private final int capacity;
    private long step;
    float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weightDecay = 1e-4f;

    static final class Layer {
        Mask mask;
        LayerPlan plan;
        Tensor w, b, gw, gb, mw, vw, mb, vb;
    }

    /** masks[k] is layer k (out x in); initial weights Kaiming-uniform from seed, identical on every backend. */
    MlpRunner(Backend be, List<Mask> masks, int batchCapacity, long seed) {
        this.be = be;
        this.capacity = batchCapacity;
        Random rng = new Random(seed);
        acts = new Tensor[masks.size() + 1];
        grads = new Tensor[masks.size() + 1];
        acts[0] = be.tensor(masks.get(0).in, batchCapacity);
        for (int k = 0; k < masks.size(); k++) {
            Mask m = masks.get(k);
            Layer l = new Layer();
            l.mask = m;
            l.plan = be.plan(m);
            float[] dense = new float[m.out * m.in];
            float bound = (float) Math.sqrt(6.0 / m.in);
            for (int i = 0; i < dense.length; i++) dense[i] = (rng.nextFloat() * 2 - 1) * bound;
            float[] bias = new float[m.out];
            for (int i = 0; i < bias.length; i++) bias[i] = (rng.nextFloat() * 2 - 1) / (float) Math.sqrt(m.in);
            allocate(l);
            be.pack(l.plan, dense, l.w);
            be.write(l.b, bias);
            layers.add(l);
            acts[k + 1] = be.tensor(m.out, batchCapacity);
            grads[k + 1] = be.tensor(m.out, batchCapacity);
        }
        grads[0] = be.tensor(masks.get(0).in, batchCapacity); // input gradient of layer 0 (unused, kept for timing parity)
        stats = be.vector(2);
        yb = be.ints(batchCapacity);
    }

    private void allocate(Layer l) {
        int n = l.plan.packedSize(), o = l.mask.out;
        l.w = be.vector(n);
        l.gw = be.vector(n);
        l.mw = be.vector(n);
        l.vw = be.vector(n);
        l.b = be.vector(o);
        l.gb = be.vector(o);
        l.mb = be.vector(o);
        l.vb = be.vector(o);
    }

    /** One optimizer step on samples order[offset .. offset+batch) of the dataset. */
    void step(Tensor images, IntVector labels, IntVector order, int offset, int batch) {
        if (batch > capacity) throw new IllegalArgumentException("batch above capacity");
        be.gather(images, labels, order, offset, batch, acts[0], yb);
        int last = layers.size() - 1;
        for (int k = 0; k <= last; k++) {
            Layer l = layers.get(k);
            be.forward(l.plan, l.w, l.b, acts[k], acts[k + 1], batch, k < last);
        }
        be.softmaxCrossEntropy(acts[last + 1], yb, grads[last + 1], stats, batch);
        for (int k = last; k >= 0; k--) {
            Layer l = layers.get(k);
            be.weightGrad(l.plan, acts[k], grads[k + 1], l.gw, l.gb, batch);
            if (k > 0) {
                be.backwardInput(l.plan, l.w, grads[k + 1], grads[k], batch);
                be.reluBackward(acts[k], grads[k], batch);
            }
        }
        step++;
        for (Layer l : layers) {
            be.adam(l.w, l.gw, l.mw, l.vw, lr, beta1, beta2, eps, weightDecay, step);
            be.adam(l.b, l.gb, l.mb, l.vb, lr, beta1, beta2, eps, weightDecay, step);
        }
    }

    /** A DST update: layer k gets a new mask; weights and Adam state move to the new plan (new edges start at 0). */
    void replan(int k, Mask next) {
        Layer l = layers.get(k);
        float[] w = masked(be.unpack(l.plan, l.w), next), m = masked(be.unpack(l.plan, l.mw), next),
                v = masked(be.unpack(l.plan, l.vw), next);
        for (Tensor t : new Tensor[] {l.w, l.gw, l.mw, l.vw}) t.close();
        l.plan.close();
        l.mask = next;
        l.plan = be.plan(next);
        int n = l.plan.packedSize();
        l.w = be.vector(n);
        l.gw = be.vector(n);
        l.mw = be.vector(n);
        l.vw = be.vector(n);
        be.pack(l.plan, w, l.w);
        be.pack(l.plan, m, l.mw);
        be.pack(l.plan, v, l.vw);
    }

    private static float[] masked(float[] dense, Mask m) {
        for (int i = 0; i < dense.length; i++) if (!m.active[i]) dense[i] = 0f;
        return dense;
    }

    /** Summed loss and correct count since the last call; resets them (a host round trip). */
    float[] takeStats() {
        float[] s = be.read(stats);
        be.zero(stats);
        return s;
    }

    float[] denseWeights(int k) { return be.unpack(layers.get(k).plan, layers.get(k).w); }

    @Override
    public void close() {
        for (Layer l : layers) {
            for (Tensor t : new Tensor[] {l.w, l.b, l.gw, l.gb, l.mw, l.vw, l.mb, l.vb}) t.close();
            l.plan.close();
        }
        for (Tensor t : acts) t.close();
        for (Tensor t : grads) if (t != null) t.close();
        stats.close();
        yb.close();
    }
}
