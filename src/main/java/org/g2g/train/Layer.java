package org.g2g.train;

import org.g2g.backend.Backend;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.dst.RewirableLayer;
import org.g2g.model.Mask;

/**
 * One masked linear layer on a backend (the paper's sparse layer; dense when its mask is):
 * weights, gradients and optimizer state packed in the plan's layout, biases dense.
 */
public final class Layer implements RewirableLayer, AutoCloseable {
    public final int in;
    public final int out;
    public final boolean relu;
    public final boolean sparse;
    public Mask mask;
    public LayerPlan plan;
    public Tensor w;
    public Tensor gw;
    public Tensor[] wState;
    public final Tensor b;
    public final Tensor gb;
    public final Tensor[] bState;

    Layer(Backend be, Mask mask, boolean relu, boolean sparse, int slots, float[] w0, float[] b0) {
        this.in = mask.in;
        this.out = mask.out;
        this.relu = relu;
        this.sparse = sparse;
        this.b = be.vector(out);
        this.gb = be.vector(out);
        this.bState = new Tensor[slots];
        for (int s = 0; s < slots; s++) bState[s] = be.vector(out);
        be.write(b, b0);
        repack(be, mask, w0, new float[slots][]);
    }

    @Override public int in() { return in; }
    @Override public int out() { return out; }
    @Override public boolean sparse() { return sparse; }
    @Override public Mask mask() { return mask; }

    /** Installs a new mask: weights and optimizer state from dense arrays (null state = zeros). */
    @Override
    public void repack(Backend be, Mask newMask, float[] denseW, float[][] denseState) {
        LayerPlan p = be.plan(newMask);
        Tensor nw = be.vector(p.packedSize());
        be.pack(p, denseW, nw);
        Tensor ng = be.vector(p.packedSize());
        Tensor[] ns = new Tensor[denseState.length];
        for (int s = 0; s < ns.length; s++) {
            ns[s] = be.vector(p.packedSize());
            if (denseState[s] != null) be.pack(p, denseState[s], ns[s]);
        }
        closeWeights();
        mask = newMask;
        plan = p;
        w = nw;
        gw = ng;
        wState = ns;
    }

    @Override
    public float[] denseWeights(Backend be) { return be.unpack(plan, w); }

    @Override
    public float[][] denseState(Backend be) {
        float[][] s = new float[wState.length][];
        for (int k = 0; k < s.length; k++) s[k] = be.unpack(plan, wState[k]);
        return s;
    }

    private void closeWeights() {
        if (w == null) return;
        w.close();
        gw.close();
        for (Tensor t : wState) t.close();
        plan.close();
    }

    @Override
    public void close() {
        closeWeights();
        b.close();
        gb.close();
        for (Tensor t : bState) t.close();
    }
}
