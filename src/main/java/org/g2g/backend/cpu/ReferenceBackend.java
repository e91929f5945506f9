package org.g2g.backend.cpu;

import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
import org.g2g.backend.IntVector;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.backend.layout.GroupedLayout;
import org.g2g.model.Mask;

/**
 * The naive reference: plain loops over every (out, in) pair of the mask, in double, one
 * thread. Weights live in the shared {@link GroupedLayout} like the fast backends' (so packed
 * vectors compare one to one), but the loops only look each active edge up by its packed
 * position: no blocks, panels or edge lists. It is the independent reference the fast CPU
 * kernels and the CUDA kernels are tested against; never used for real training.
 *
 * Everything else is its own too, written as the textbook formula rather than shared with the
 * fast backends ({@link HostOps}): tensors without row padding, the loss, EMA and optimizers in
 * double and rounded to float once per element, and no denormal flushing (the fast backends
 * flush state below 1e-30, which moves nothing a test can see beyond 1e-30). The strip copy and
 * crop-flip are {@link Backend}'s own host defaults.
 */
public class ReferenceBackend implements Backend {

    /** The layout plus the packed position of every (o, i), -1 where inactive. */
    record RefPlan(GroupedLayout layout, int[] pos) implements LayerPlan {
        public Mask mask() { return layout.mask; }
        public int packedSize() { return layout.packedSize(); }
        public long activeEdges() { return layout.activeEdges; }
        public long macsPerSample() { return layout.macsPerSample(); }
    }

    private static RefPlan rp(LayerPlan p) {
        if (!(p instanceof RefPlan r)) throw new IllegalArgumentException("plan was not made by ReferenceBackend");
        return r;
    }

    @Override public String name() { return "reference"; }
    @Override public String description() { return "naive reference loops, 1 thread"; }

    // ---- memory: tensors are CpuTensors (the shared layout packs into float arrays), rows unpadded ----

    @Override public boolean onHost() { return true; }

    @Override public Tensor tensor(int rows, int cols) { return new CpuTensor(rows, cols, cols); }

    @Override public IntVector ints(int n) { return new CpuIntVector(n); }

    @Override
    public void write(Tensor t, float[] src) {
        if (src.length != t.rows * t.cols) throw new IllegalArgumentException("write: size mismatch");
        for (int r = 0; r < t.rows; r++) {
            for (int c = 0; c < t.cols; c++) set(t, r, c, src[r * t.cols + c]);
        }
    }

    @Override
    public float[] read(Tensor t) {
        float[] out = new float[t.rows * t.cols];
        for (int r = 0; r < t.rows; r++) {
            for (int c = 0; c < t.cols; c++) out[r * t.cols + c] = get(t, r, c);
        }
        return out;
    }

    @Override public void write(IntVector v, int[] src) { System.arraycopy(src, 0, CpuIntVector.of(v), 0, v.length); }

    @Override public int[] read(IntVector v) { return CpuIntVector.of(v).clone(); }

    @Override public void zero(Tensor t) { java.util.Arrays.fill(CpuTensor.of(t), 0f); }

    @Override
    public void copy(Tensor src, Tensor dst) {
        for (int r = 0; r < Math.min(src.rows, dst.rows); r++) {
            for (int c = 0; c < Math.min(src.cols, dst.cols); c++) set(dst, r, c, get(src, r, c));
        }
    }

    private static float get(Tensor t, int r, int c) { return CpuTensor.of(t)[CpuTensor.off(t) + r * t.ld + c]; }

    private static void set(Tensor t, int r, int c, float v) { CpuTensor.of(t)[CpuTensor.off(t) + r * t.ld + c] = v; }

    /** Element k of a vector (a 1 x n tensor, or any tensor read row by row). */
    private static float at(Tensor t, int k) { return get(t, k / t.cols, k % t.cols); }

    private static void put(Tensor t, int k, float v) { set(t, k / t.cols, k % t.cols, v); }

    // ---- layers ----

    @Override
    public LayerPlan plan(Mask mask) {
        GroupedLayout l = GroupedLayout.of(mask);
        return new RefPlan(l, l.packedPositions());
    }

    @Override
    public void pack(LayerPlan p, float[] dense, Tensor packed) {
        rp(p).layout().pack(dense, CpuTensor.of(packed), CpuTensor.off(packed));
    }

    @Override
    public float[] unpack(LayerPlan p, Tensor packed) {
        float[] out = new float[p.mask().out * p.mask().in];
        rp(p).layout().unpack(CpuTensor.of(packed), CpuTensor.off(packed), out);
        return out;
    }

    @Override
    public void forward(LayerPlan p, Tensor w, Tensor bias, Tensor x, Tensor y, int batch, boolean relu) {
        Mask m = p.mask();
        int[] pos = rp(p).pos();
        float[] W = CpuTensor.of(w), B = CpuTensor.of(bias), X = CpuTensor.of(x), Y = CpuTensor.of(y);
        int wo = CpuTensor.off(w), bo = CpuTensor.off(bias), xo = CpuTensor.off(x), yo = CpuTensor.off(y);
        for (int o = 0; o < m.out; o++) {
            for (int b = 0; b < batch; b++) {
                double s = B[bo + o];
                for (int i = 0; i < m.in; i++) {
                    if (m.active[o * m.in + i]) s += (double) W[wo + pos[o * m.in + i]] * X[xo + i * x.ld + b];
                }
                float v = (float) s;
                Y[yo + o * y.ld + b] = relu && v < 0 ? 0f : v;
            }
        }
    }

    @Override
    public void backwardInput(LayerPlan p, Tensor w, Tensor dy, Tensor dx, int batch) {
        Mask m = p.mask();
        int[] pos = rp(p).pos();
        float[] W = CpuTensor.of(w), G = CpuTensor.of(dy), D = CpuTensor.of(dx);
        int wo = CpuTensor.off(w), go = CpuTensor.off(dy), dxo = CpuTensor.off(dx);
        for (int i = 0; i < m.in; i++) {
            for (int b = 0; b < batch; b++) {
                double s = 0;
                for (int o = 0; o < m.out; o++) {
                    if (m.active[o * m.in + i]) s += (double) W[wo + pos[o * m.in + i]] * G[go + o * dy.ld + b];
                }
                D[dxo + i * dx.ld + b] = (float) s;
            }
        }
    }

    @Override
    public void weightGrad(LayerPlan p, Tensor x, Tensor dy, Tensor gw, Tensor gb, int batch) {
        RefPlan rp = rp(p);
        Mask m = rp.mask();
        float[] X = CpuTensor.of(x), G = CpuTensor.of(dy), GW = CpuTensor.of(gw), GB = CpuTensor.of(gb);
        int xo = CpuTensor.off(x), go = CpuTensor.off(dy), gwo = CpuTensor.off(gw), gbo = CpuTensor.off(gb);
        java.util.Arrays.fill(GW, gwo, gwo + rp.packedSize(), 0f); // holes of dense blocks stay 0
        for (int o = 0; o < m.out; o++) {
            double sb = 0;
            for (int b = 0; b < batch; b++) sb += G[go + o * dy.ld + b];
            GB[gbo + o] = (float) sb;
            for (int i = 0; i < m.in; i++) {
                if (!m.active[o * m.in + i]) continue;
                double s = 0;
                for (int b = 0; b < batch; b++) s += (double) G[go + o * dy.ld + b] * X[xo + i * x.ld + b];
                GW[gwo + rp.pos()[o * m.in + i]] = (float) s;
            }
        }
    }

    @Override
    public void correlation(Tensor y, Tensor x, int batch, Correlation kind, Tensor scores) {
        float[] Y = CpuTensor.of(y), X = CpuTensor.of(x), S = CpuTensor.of(scores);
        double[][] yc = centred(Y, CpuTensor.off(y), y.rows, y.ld, batch, kind == Correlation.PEARSON);
        double[][] xc = centred(X, CpuTensor.off(x), x.rows, x.ld, batch, kind == Correlation.PEARSON);
        int so = CpuTensor.off(scores);
        for (int o = 0; o < y.rows; o++) {
            for (int i = 0; i < x.rows; i++) {
                double dot = 0, ny = 0, nx = 0;
                for (int b = 0; b < batch; b++) {
                    dot += yc[o][b] * xc[i][b];
                    ny += yc[o][b] * yc[o][b];
                    nx += xc[i][b] * xc[i][b];
                }
                S[so + o * x.rows + i] = (float) (kind == Correlation.RAW ? dot
                        : dot / (Math.sqrt(ny) * Math.sqrt(nx) + 1e-8));
            }
        }
    }

    private static double[][] centred(float[] a, int off, int rows, int ld, int batch, boolean centre) {
        double[][] out = new double[rows][batch];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            if (centre) {
                for (int b = 0; b < batch; b++) mean += a[off + r * ld + b];
                mean /= batch;
            }
            for (int b = 0; b < batch; b++) out[r][b] = a[off + r * ld + b] - mean;
        }
        return out;
    }

    // ---- loss, EMA, optimizers, data: the textbook formulas in double ----

    @Override
    public void reluBackward(Tensor y, Tensor dy, int batch) {
        for (int r = 0; r < y.rows; r++) {
            for (int b = 0; b < batch; b++) if (get(y, r, b) <= 0f) set(dy, r, b, 0f);
        }
    }

    /** p = softmax(z) per sample; loss = -log p[label]; dz = (p - onehot) / batch; correct when the first largest logit is the label's. */
    @Override
    public void softmaxCrossEntropy(Tensor logits, IntVector labels, Tensor dlogits, Tensor stats, int batch) {
        int classes = logits.rows;
        int[] y = CpuIntVector.of(labels);
        double loss = 0;
        int correct = 0;
        for (int b = 0; b < batch; b++) {
            int arg = 0;
            for (int k = 1; k < classes; k++) if (get(logits, k, b) > get(logits, arg, b)) arg = k;
            double max = get(logits, arg, b), total = 0;
            double[] p = new double[classes];
            for (int k = 0; k < classes; k++) {
                p[k] = Math.exp(get(logits, k, b) - max);
                total += p[k];
            }
            for (int k = 0; k < classes; k++) p[k] /= total;
            loss -= Math.log(p[y[b]]);
            if (arg == y[b]) correct++;
            if (dlogits != null) {
                for (int k = 0; k < classes; k++) set(dlogits, k, b, (float) ((p[k] - (k == y[b] ? 1 : 0)) / batch));
            }
        }
        put(stats, 0, (float) (at(stats, 0) + loss));
        put(stats, 1, at(stats, 1) + correct);
    }

    @Override
    public void ema(Tensor acc, Tensor cur, float beta) {
        for (int r = 0; r < acc.rows; r++) {
            for (int c = 0; c < acc.cols; c++) {
                set(acc, r, c, (float) ((double) beta * get(acc, r, c) + (1.0 - beta) * get(cur, r, c)));
            }
        }
    }

    /** torch.optim.Adam: g += wd w; m, v the moving moments; w -= lr m^ / (sqrt(v^) + eps) with bias-corrected m^, v^. */
    @Override
    public void adam(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
                     float eps, float weightDecay, long t) {
        double c1 = 1 - Math.pow(beta1, t), c2 = 1 - Math.pow(beta2, t);
        for (int k = 0; k < w.size(); k++) {
            double wk = at(w, k), gk = at(g, k) + (double) weightDecay * wk;
            double mk = beta1 * (double) at(m, k) + (1.0 - beta1) * gk;
            double vk = beta2 * (double) at(v, k) + (1.0 - beta2) * gk * gk;
            put(m, k, (float) mk);
            put(v, k, (float) vk);
            put(w, k, (float) (wk - lr * (mk / c1) / (Math.sqrt(vk / c2) + eps)));
        }
    }

    /** torch.optim.SGD: g += wd w; with momentum buf = momentum buf + g and step along buf (Nesterov: g + momentum buf). */
    @Override
    public void sgd(Tensor w, Tensor g, Tensor buf, float lr, float momentum, boolean nesterov, float weightDecay) {
        for (int k = 0; k < w.size(); k++) {
            double wk = at(w, k), gk = at(g, k) + (double) weightDecay * wk;
            if (momentum != 0f) {
                double bk = momentum * (double) at(buf, k) + gk;
                put(buf, k, (float) bk);
                gk = nesterov ? gk + momentum * bk : bk;
            }
            put(w, k, (float) (wk - lr * gk));
        }
    }

    @Override
    public void gather(Tensor images, IntVector labels, IntVector order, int offset, int batch, Tensor x, IntVector yb) {
        int[] lab = CpuIntVector.of(labels), ord = CpuIntVector.of(order), out = CpuIntVector.of(yb);
        for (int b = 0; b < batch; b++) {
            int sample = ord[offset + b];
            for (int f = 0; f < images.cols; f++) set(x, f, b, get(images, sample, f));
            out[b] = lab[sample];
        }
    }

    @Override public void close() {}
}
