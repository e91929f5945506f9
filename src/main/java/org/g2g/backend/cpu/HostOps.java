package org.g2g.backend.cpu;

import org.g2g.backend.IntVector;
import org.g2g.backend.Tensor;

/**
 * Host-memory operations shared by every backend that keeps tensors in Java arrays:
 * allocation, copies, loss, optimizers and the batch gather. Written as plain loops the
 * JIT vectorises; they are O(parameters) or O(batch x units), never the hot O(edges x batch).
 */
public abstract class HostOps {
    /** Row stride for a row of n floats: padded to 16 floats (64 bytes) and away from 4 KiB multiples. */
    public static int paddedLd(int n) {
        if (n <= 1) return Math.max(n, 1);
        int ld = (n + 15) & ~15;
        if ((ld * 4) % 4096 == 0) ld += 16; // 4K aliasing between rows otherwise
        return ld;
    }

    public Tensor tensor(int rows, int cols) {
        return new CpuTensor(rows, cols, rows == 1 ? cols : paddedLd(cols));
    }

    public IntVector ints(int n) { return new CpuIntVector(n); }

    public void write(Tensor t, float[] src) {
        float[] d = CpuTensor.of(t);
        if (src.length != t.rows * t.cols) throw new IllegalArgumentException("write: size mismatch");
        for (int r = 0; r < t.rows; r++) System.arraycopy(src, r * t.cols, d, r * t.ld, t.cols);
    }

    public float[] read(Tensor t) {
        float[] d = CpuTensor.of(t);
        float[] out = new float[t.rows * t.cols];
        for (int r = 0; r < t.rows; r++) System.arraycopy(d, r * t.ld, out, r * t.cols, t.cols);
        return out;
    }

    public void write(IntVector v, int[] src) {
        System.arraycopy(src, 0, CpuIntVector.of(v), 0, v.length);
    }

    public int[] read(IntVector v) { return CpuIntVector.of(v).clone(); }

    public void zero(Tensor t) { java.util.Arrays.fill(CpuTensor.of(t), 0f); }

    public void copy(Tensor src, Tensor dst) {
        float[] s = CpuTensor.of(src), d = CpuTensor.of(dst);
        System.arraycopy(s, 0, d, 0, Math.min(s.length, d.length));
    }

    public void reluBackward(Tensor y, Tensor dy, int batch) {
        float[] a = CpuTensor.of(y), g = CpuTensor.of(dy);
        for (int r = 0; r < y.rows; r++) {
            int ya = r * y.ld, ga = r * dy.ld;
            for (int b = 0; b < batch; b++) if (a[ya + b] <= 0f) g[ga + b] = 0f;
        }
    }

    public void softmaxCrossEntropy(Tensor logits, IntVector labels, Tensor dlogits, Tensor stats, int batch) {
        float[] z = CpuTensor.of(logits);
        float[] dz = dlogits == null ? null : CpuTensor.of(dlogits);
        int[] y = CpuIntVector.of(labels);
        float[] st = CpuTensor.of(stats);
        int c = logits.rows, ld = logits.ld;
        double lossSum = 0;
        int correct = 0;
        for (int b = 0; b < batch; b++) {
            float max = Float.NEGATIVE_INFINITY;
            int arg = 0;
            for (int k = 0; k < c; k++) {
                float v = z[k * ld + b];
                if (v > max) { max = v; arg = k; }
            }
            double sum = 0;
            for (int k = 0; k < c; k++) sum += Math.exp(z[k * ld + b] - max);
            double logSum = Math.log(sum) + max;
            int label = y[b];
            lossSum += logSum - z[label * ld + b];
            if (arg == label) correct++;
            if (dz != null) {
                for (int k = 0; k < c; k++) {
                    double p = Math.exp(z[k * ld + b] - logSum);
                    dz[k * dlogits.ld + b] = (float) ((p - (k == label ? 1.0 : 0.0)) / batch);
                }
            }
        }
        st[0] += (float) lossSum;
        st[1] += correct;
    }

    public void ema(Tensor acc, Tensor cur, float beta) {
        float[] a = CpuTensor.of(acc), c = CpuTensor.of(cur);
        float w = 1f - beta;
        for (int k = 0; k < a.length; k++) a[k] = beta * a[k] + w * c[k];
    }

    public void adam(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
                     float eps, float weightDecay, long t) {
        float[] W = CpuTensor.of(w), G = CpuTensor.of(g), M = CpuTensor.of(m), V = CpuTensor.of(v);
        float bc1 = (float) (1 - Math.pow(beta1, t));
        float bc2 = (float) (1 - Math.pow(beta2, t));
        float step = lr / bc1;
        float invSqrtBc2 = (float) (1.0 / Math.sqrt(bc2));
        int n = (int) w.size();
        for (int k = 0; k < n; k++) {
            float gk = G[k] + weightDecay * W[k];
            float mk = beta1 * M[k] + (1 - beta1) * gk;
            float vk = beta2 * V[k] + (1 - beta2) * gk * gk;
            // flush tiny optimizer state: Java cannot set FTZ, and denormals cost 20x
            if (Math.abs(mk) < 1e-30f) mk = 0f;
            if (vk < 1e-30f) vk = 0f;
            M[k] = mk;
            V[k] = vk;
            W[k] -= step * mk / ((float) Math.sqrt(vk) * invSqrtBc2 + eps);
        }
    }

    public void sgd(Tensor w, Tensor g, Tensor buf, float lr, float momentum, boolean nesterov, float weightDecay) {
        float[] W = CpuTensor.of(w), G = CpuTensor.of(g), B = CpuTensor.of(buf);
        int n = (int) w.size();
        for (int k = 0; k < n; k++) {
            float gk = G[k] + weightDecay * W[k];
            if (momentum != 0f) {
                float bk = momentum * B[k] + gk;
                if (Math.abs(bk) < 1e-30f) bk = 0f;
                B[k] = bk;
                gk = nesterov ? gk + momentum * bk : bk;
            }
            W[k] -= lr * gk;
        }
    }

    public void gather(Tensor images, IntVector labels, IntVector order, int offset, int batch, Tensor x, IntVector yb) {
        float[] src = CpuTensor.of(images), dst = CpuTensor.of(x);
        int[] lab = CpuIntVector.of(labels), ord = CpuIntVector.of(order), out = CpuIntVector.of(yb);
        int f = images.cols;
        for (int b = 0; b < batch; b++) {
            int s = ord[offset + b];
            int base = s * images.ld;
            for (int k = 0; k < f; k++) dst[k * x.ld + b] = src[base + k];
            out[b] = lab[s];
        }
    }
}
