package org.g2g.backend.cpu;

import org.g2g.backend.IntVector;
import org.g2g.backend.StepScalars;
import org.g2g.backend.Tensor;

/**
 * The fast CPU backend's host-memory operations: allocation, copies, loss, EMA, SGD, the scalar
 * Adam its vector Adam reproduces bit for bit, and the batch gather. Written as plain loops the
 * JIT vectorises; they are O(parameters) or O(batch x units), never the hot O(edges x batch).
 * The CUDA kernels reproduce this float arithmetic; {@link ReferenceBackend} has its own.
 */
public abstract class HostOps {
    /** Row stride for a row of n floats (see {@link Tensor#paddedLd}). */
    public static int paddedLd(int n) { return Tensor.paddedLd(n); }

    /** Backends built on these operations keep their numbers in Java arrays (see {@code Backend.onHost}). */
    public boolean onHost() { return true; }

    public Tensor tensor(int rows, int cols) {
        return new CpuTensor(rows, cols, rows == 1 ? cols : paddedLd(cols), CpuTensor.ALIGN);
    }

    public IntVector ints(int n) { return new CpuIntVector(n); }

    public void write(Tensor t, float[] src) {
        float[] d = CpuTensor.of(t);
        int o = CpuTensor.off(t);
        if (src.length != t.rows * t.cols) throw new IllegalArgumentException("write: size mismatch");
        for (int r = 0; r < t.rows; r++) System.arraycopy(src, r * t.cols, d, o + r * t.ld, t.cols);
    }

    public float[] read(Tensor t) {
        float[] d = CpuTensor.of(t);
        float[] out = new float[t.rows * t.cols];
        int o = CpuTensor.off(t);
        for (int r = 0; r < t.rows; r++) System.arraycopy(d, o + r * t.ld, out, r * t.cols, t.cols);
        return out;
    }

    public void write(IntVector v, int[] src) {
        System.arraycopy(src, 0, CpuIntVector.of(v), 0, v.length);
    }

    public int[] read(IntVector v) { return CpuIntVector.of(v).clone(); }

    public void zero(Tensor t) { java.util.Arrays.fill(CpuTensor.of(t), 0f); }

    public void copy(Tensor src, Tensor dst) {
        float[] s = CpuTensor.of(src), d = CpuTensor.of(dst);
        int so = CpuTensor.off(src), dof = CpuTensor.off(dst);
        if (so == dof && src.ld == dst.ld) {
            System.arraycopy(s, so, d, dof, Math.min(s.length, d.length) - so);
        } else {
            int rows = Math.min(src.rows, dst.rows), cols = Math.min(src.cols, dst.cols);
            for (int r = 0; r < rows; r++) System.arraycopy(s, so + r * src.ld, d, dof + r * dst.ld, cols);
        }
    }

    /** Backend.copyStrips: one arraycopy per strip (the patch encoder's gather and reshapes; O(pixels x batch)). */
    public void copyStrips(Tensor src, Tensor dst, IntVector strips, int count, int width) {
        float[] s = CpuTensor.of(src), d = CpuTensor.of(dst);
        int[] st = CpuIntVector.of(strips);
        int so = CpuTensor.off(src), dof = CpuTensor.off(dst);
        for (int k = 0; k < count; k++) {
            System.arraycopy(s, so + st[4 * k] * src.ld + st[4 * k + 1] * width,
                    d, dof + st[4 * k + 2] * dst.ld + st[4 * k + 3] * width, width);
        }
    }

    /** Backend.cropFlip: per destination row, a gather along the batch (O(pixels x batch)). */
    public void cropFlip(Tensor src, Tensor dst, IntVector params, int channels, int height, int width, int pad,
                         int batch) {
        float[] s = CpuTensor.of(src), d = CpuTensor.of(dst);
        int[] pr = CpuIntVector.of(params);
        int so = CpuTensor.off(src), dof = CpuTensor.off(dst);
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int dr = dof + ((c * height + y) * width + x) * dst.ld;
                    for (int b = 0; b < batch; b++) {
                        int sy = y + pr[3 * b] - pad, sx = (pr[3 * b + 2] != 0 ? width - 1 - x : x) + pr[3 * b + 1] - pad;
                        d[dr + b] = sy < 0 || sy >= height || sx < 0 || sx >= width ? 0f
                                : s[so + ((c * height + sy) * width + sx) * src.ld + b];
                    }
                }
            }
        }
    }

    public void reluBackward(Tensor y, Tensor dy, int batch) {
        float[] a = CpuTensor.of(y), g = CpuTensor.of(dy);
        for (int r = 0; r < y.rows; r++) {
            int ya = CpuTensor.off(y) + r * y.ld, ga = CpuTensor.off(dy) + r * dy.ld;
            for (int b = 0; b < batch; b++) if (a[ya + b] <= 0f) g[ga + b] = 0f;
        }
    }

    public void softmaxCrossEntropy(Tensor logits, IntVector labels, Tensor dlogits, Tensor stats, int batch) {
        float[] z = CpuTensor.of(logits);
        float[] dz = dlogits == null ? null : CpuTensor.of(dlogits);
        int[] y = CpuIntVector.of(labels);
        float[] st = CpuTensor.of(stats);
        int c = logits.rows, ld = logits.ld, zo = CpuTensor.off(logits), so = CpuTensor.off(stats);
        int dzo = dlogits == null ? 0 : CpuTensor.off(dlogits);
        double lossSum = 0;
        int correct = 0;
        for (int b = 0; b < batch; b++) {
            float max = Float.NEGATIVE_INFINITY;
            int arg = 0;
            for (int k = 0; k < c; k++) {
                float v = z[zo + k * ld + b];
                if (v > max) { max = v; arg = k; }
            }
            double sum = 0;
            for (int k = 0; k < c; k++) sum += Math.exp(z[zo + k * ld + b] - max);
            double logSum = Math.log(sum) + max;
            int label = y[b];
            lossSum += logSum - z[zo + label * ld + b];
            if (arg == label) correct++;
            if (dz != null) {
                for (int k = 0; k < c; k++) {
                    double p = Math.exp(z[zo + k * ld + b] - logSum);
                    dz[dzo + k * dlogits.ld + b] = (float) ((p - (k == label ? 1.0 : 0.0)) / batch);
                }
            }
        }
        st[so] += (float) lossSum;
        st[so + 1] += correct;
    }

    public void ema(Tensor acc, Tensor cur, float beta) {
        float[] a = CpuTensor.of(acc), c = CpuTensor.of(cur);
        float w = 1f - beta;
        int ao = CpuTensor.off(acc), co = CpuTensor.off(cur);
        for (int r = 0; r < acc.rows; r++) {
            int ar = ao + r * acc.ld, cr = co + r * cur.ld;
            for (int k = 0; k < acc.cols; k++) a[ar + k] = beta * a[ar + k] + w * c[cr + k];
        }
    }

    public void adam(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
                     float eps, float weightDecay, long t) {
        float[] W = CpuTensor.of(w), G = CpuTensor.of(g), M = CpuTensor.of(m), V = CpuTensor.of(v);
        float step = StepScalars.adamStep(lr, beta1, t);
        float invSqrtBc2 = StepScalars.adamInvSqrtBc2(beta2, t);
        int n = (int) w.size();
        int wo = CpuTensor.off(w), go = CpuTensor.off(g), mo = CpuTensor.off(m), vo = CpuTensor.off(v);
        adamRange(W, wo, G, go, M, mo, V, vo, 0, n, beta1, beta2, eps, weightDecay, step, invSqrtBc2);
    }

    /** Scalar Adam over elements [k0, k1): the reference, and the vector kernel's tail. */
    static void adamRange(float[] W, int wo, float[] G, int go, float[] M, int mo, float[] V, int vo, int k0, int k1,
                          float beta1, float beta2, float eps, float weightDecay, float step, float invSqrtBc2) {
        for (int k = k0; k < k1; k++) {
            float gk = G[go + k] + weightDecay * W[wo + k];
            float mk = beta1 * M[mo + k] + (1 - beta1) * gk;
            float vk = beta2 * V[vo + k] + (1 - beta2) * gk * gk;
            // flush tiny optimizer state: Java cannot set FTZ, and denormals cost 20x
            if (Math.abs(mk) < 1e-30f) mk = 0f;
            if (vk < 1e-30f) vk = 0f;
            M[mo + k] = mk;
            V[vo + k] = vk;
            W[wo + k] -= step * mk / ((float) Math.sqrt(vk) * invSqrtBc2 + eps);
        }
    }

    public void sgd(Tensor w, Tensor g, Tensor buf, float lr, float momentum, boolean nesterov, float weightDecay) {
        float[] W = CpuTensor.of(w), G = CpuTensor.of(g), B = CpuTensor.of(buf);
        int n = (int) w.size();
        int wo = CpuTensor.off(w), go = CpuTensor.off(g), bo = CpuTensor.off(buf);
        for (int k = 0; k < n; k++) {
            float gk = G[go + k] + weightDecay * W[wo + k];
            if (momentum != 0f) {
                float bk = momentum * B[bo + k] + gk;
                if (Math.abs(bk) < 1e-30f) bk = 0f;
                B[bo + k] = bk;
                gk = nesterov ? gk + momentum * bk : bk;
            }
            W[wo + k] -= lr * gk;
        }
    }

    public void gather(Tensor images, IntVector labels, IntVector order, int offset, int batch, Tensor x, IntVector yb) {
        float[] src = CpuTensor.of(images), dst = CpuTensor.of(x);
        int[] lab = CpuIntVector.of(labels), ord = CpuIntVector.of(order), out = CpuIntVector.of(yb);
        int f = images.cols;
        for (int b = 0; b < batch; b++) {
            int s = ord[offset + b];
            int base = CpuTensor.off(images) + s * images.ld, xo = CpuTensor.off(x);
            for (int k = 0; k < f; k++) dst[xo + k * x.ld + b] = src[base + k];
            out[b] = lab[s];
        }
    }
}
