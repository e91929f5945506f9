package org.g2g.backend.cuda;

import java.util.Random;
import jcuda.CudaException;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.model.Mask;

/** The cuBLAS self-check a CUDA backend runs when it opens (see {@link #run}). */
final class CublasSelfCheck {
    private CublasSelfCheck() {}

    /**
     * Runs the three dense-layer products we ask of cuBLAS (forward N,N; input gradient N,T;
     * weight gradient T,N) on a small odd-shaped layer with padded row strides, through cuBLAS
     * and through our gemm.cu kernels, and compares both with a double-precision host product.
     * Why: cuBLAS 13 is reached through a forwarding shim built for cuBLAS 12's ABI, which no
     * test here can prove. Returns null when cuBLAS agrees, else what went wrong.
     */
    static String run(CudaBackend be, CudaContext ctx) {
        // more outputs than LayerKernels.SMALL_DENSE: smaller dense layers never go to cuBLAS
        final int out = LayerKernels.SMALL_DENSE + 3, in = 21, batch = 7;
        Random rng = new Random(20260);
        float[] w = new float[out * in], x = new float[in * batch], dy = new float[out * batch];
        for (float[] a : new float[][] {w, x, dy}) for (int k = 0; k < a.length; k++) a[k] = rng.nextFloat() * 2 - 1;
        double[][] ref = {new double[out * batch], new double[in * batch], new double[out * in]};
        for (int o = 0; o < out; o++) {
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < in; i++) {
                    ref[0][o * batch + b] += (double) w[o * in + i] * x[i * batch + b];
                    ref[1][i * batch + b] += (double) w[o * in + i] * dy[o * batch + b];
                    ref[2][o * in + i] += (double) dy[o * batch + b] * x[i * batch + b];
                }
            }
        }
        String[] what = {"forward (N,N)", "input gradient (N,T)", "weight gradient (T,N)"};
        Blas saved = ctx.blas();
        try (LayerPlan p = be.plan(Mask.dense(out, in)); Tensor W = be.vector(out * in); Tensor B = be.vector(out);
             Tensor X = be.tensor(in, batch); Tensor Y = be.tensor(out, batch); Tensor DY = be.tensor(out, batch);
             Tensor DX = be.tensor(in, batch); Tensor GW = be.vector(out * in); Tensor GB = be.vector(out)) {
            be.pack(p, w, W);
            be.write(X, x);
            be.write(DY, dy);
            float[][][] got = new float[2][][];
            for (int pass = 0; pass < 2; pass++) {
                ctx.swapBlas(pass == 0 ? saved : null);
                be.forward(p, W, B, X, Y, batch, false);
                be.backwardInput(p, W, DY, DX, batch);
                be.weightGrad(p, X, DY, GW, GB, batch);
                got[pass] = new float[][] {be.read(Y), be.read(DX), be.unpack(p, GW)};
            }
            for (int op = 0; op < 3; op++) {
                String ours = mismatch(got[1][op], ref[op]);
                if (ours != null) throw new IllegalStateException("g2g's own GEMM kernel is wrong in the " + what[op] + ": " + ours);
                String theirs = mismatch(got[0][op], ref[op]);
                if (theirs != null) return what[op] + " differs from our GEMM kernel: " + theirs;
            }
            return null;
        } catch (CudaException e) {
            return NativeLibs.oneLine(e);
        } finally {
            ctx.swapBlas(saved);
        }
    }

    private static String mismatch(float[] got, double[] ref) {
        for (int k = 0; k < ref.length; k++) {
            if (!(Math.abs(got[k] - ref[k]) <= 1e-4 * (1 + Math.abs(ref[k])))) {
                return "element " + k + " is " + got[k] + ", expected " + (float) ref[k];
            }
        }
        return null;
    }
}
