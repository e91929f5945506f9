package org.g2g.backend.cpu;

import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
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
 */
public class ReferenceBackend extends HostOps implements Backend {

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

    @Override public void close() {}
}
