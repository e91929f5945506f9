package org.g2g.backend.cuda;

import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.g2g.UserError;
import org.g2g.backend.Correlation;
import org.g2g.backend.IntVector;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.config.GroupingStrategy;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;

/**
 * GPU benchmark, printing every number it claims:
 * <ol>
 *   <li>training samples/s of the default G2GNet (784-1024x3-10, G=8, p_intra=1, p'=0.15, mixer
 *       grouping, batch 256, Adam) on synthetic data, through the Backend interface;</li>
 *   <li>one sparse layer (1024x1024, density 0.256) forward + input grad + weight grad at a large
 *       batch vs cuBLAS SGEMM of the same dense shapes (time ratio);</li>
 *   <li>the Hebbian correlation (cosine, 1024x1024 over the batch) vs cuBLAS SGEMM of the same
 *       shape (GFLOP/s and ratio).</li>
 * </ol>
 * Usage: CudaBench [--device N] [--engine custom|cusparse] [--steps N] [--batch N] [--big-batch N]
 */
public final class CudaBench {
    private CudaBench() {}

    public static void main(String[] args) {
        int device = 0, steps = 300, batch = 256, bigBatch = 4096;
        String engine = "custom";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = Integer.parseInt(args[++i]);
                case "--engine" -> engine = args[++i];
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--big-batch" -> bigBatch = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: CudaBench [--device N] [--engine custom|cusparse] [--steps N] [--batch N] [--big-batch N]");
                    System.exit(2);
                }
            }
        }
        CudaStatus s = Cuda.probe();
        System.out.print(s.describe());
        if (!s.usable()) System.exit(2);
        try (CudaBackend be = (CudaBackend) Cuda.open(device, engine)) {
            System.out.println("backend: " + be.description());
            training(be, steps, batch);
            sparseLayer(be, bigBatch);
            correlation(be, bigBatch);
        } catch (UserError e) {
            System.err.println(e.getMessage());
            System.exit(2);
        }
    }

    static List<Mask> defaultG2G(Random rng) {
        int w = 1024, g = 8;
        double pInter = 0.15;
        return List.of(
                MaskFactory.g2g(w, 784, g, 1.0, pInter, Grouping.forLayer(GroupingStrategy.MIXER, 0), rng),
                MaskFactory.g2g(w, w, g, 1.0, pInter, Grouping.forLayer(GroupingStrategy.MIXER, 1), rng),
                MaskFactory.g2g(w, w, g, 1.0, pInter, Grouping.forLayer(GroupingStrategy.MIXER, 2), rng),
                Mask.dense(10, w));
    }

    static void training(CudaBackend be, int steps, int batch) {
        Random rng = new Random(1);
        List<Mask> masks = defaultG2G(rng);
        int n = 16384, features = 784;
        float[] images = new float[n * features];
        int[] labels = new int[n], order = new int[n];
        for (int k = 0; k < n; k++) {
            labels[k] = rng.nextInt(10);
            order[k] = k;
            for (int f = 0; f < features; f++) images[k * features + f] = rng.nextFloat();
        }
        try (MlpRunner run = new MlpRunner(be, masks, batch, 7); Tensor I = be.tensor(n, features);
             IntVector L = be.ints(n); IntVector O = be.ints(n)) {
            be.write(I, images);
            be.write(L, labels);
            be.write(O, order);
            int per = n / batch;
            for (int t = 0; t < 20; t++) run.step(I, L, O, (t % per) * batch, batch); // warm-up
            be.sync();
            long t0 = System.nanoTime();
            float ms = be.timeMs(() -> {
                for (int t = 0; t < steps; t++) run.step(I, L, O, (t % per) * batch, batch);
            });
            double wall = (System.nanoTime() - t0) / 1e9;
            float[] st = run.takeStats();
            System.out.printf(Locale.ROOT, "training: default G2GNet 784-1024x3-10 (G=8, p'=0.15, mixer, density %.3f), batch %d, Adam: "
                            + "%.0f samples/s (wall), %.3f ms/step on the GPU, %d steps; mean loss %.4f%n",
                    masks.get(1).density(), batch, steps * (double) batch / wall, ms / steps, steps,
                    st[0] / ((steps + 20.0) * batch));
        }
    }

    static void sparseLayer(CudaBackend be, int batch) {
        Random rng = new Random(2);
        int w = 1024;
        Mask m = MaskFactory.g2g(w, w, 8, 1.0, 0.15, Grouping.INDEX, rng);
        int reps = 20;
        try (LayerPlan p = be.plan(m); Tensor W = be.vector(p.packedSize()); Tensor B = be.vector(w);
             Tensor X = be.tensor(w, batch); Tensor Y = be.tensor(w, batch); Tensor DY = be.tensor(w, batch);
             Tensor DX = be.tensor(w, batch); Tensor GW = be.vector(p.packedSize()); Tensor GB = be.vector(w);
             Tensor Wd = be.vector(w * w); Tensor GWd = be.vector(w * w)) {
            // the dense products write a dense w x w gradient: its own buffer, never the packed GW
            float[] dense = new float[w * w];
            for (int k = 0; k < dense.length; k++) dense[k] = (float) rng.nextGaussian() * 0.03f;
            be.pack(p, dense, W);
            be.write(Wd, dense);
            be.write(X, random(rng, w * batch));
            be.write(DY, random(rng, w * batch));
            Runnable sparse = () -> {
                be.forward(p, W, B, X, Y, batch, true);
                be.backwardInput(p, W, DY, DX, batch);
                be.weightGrad(p, X, DY, GW, GB, batch);
            };
            Runnable denseRun;
            String denseName;
            Blas blas = be.blas();
            if (blas != null) {
                denseName = "cuBLAS SGEMM x3";
                denseRun = () -> {
                    blas.sgemm(false, false, batch, w, w, be.pointer(X), X.ld, be.pointer(Wd), w, be.pointer(Y), Y.ld);
                    blas.sgemm(false, true, batch, w, w, be.pointer(DY), DY.ld, be.pointer(Wd), w, be.pointer(DX), DX.ld);
                    blas.sgemm(true, false, w, w, batch, be.pointer(X), X.ld, be.pointer(DY), DY.ld, be.pointer(GWd), w);
                };
            } else {
                denseName = "our dense GEMM kernels (cuBLAS " + Cuda.probe().cublas() + ")";
                LayerPlan dp = be.plan(Mask.dense(w, w));
                denseRun = () -> {
                    be.forward(dp, Wd, B, X, Y, batch, true);
                    be.backwardInput(dp, Wd, DY, DX, batch);
                    be.weightGrad(dp, X, DY, GWd, GB, batch);
                };
            }
            sparse.run();
            denseRun.run();
            float ts = be.timeMs(() -> { for (int r = 0; r < reps; r++) sparse.run(); }) / reps;
            float td = be.timeMs(() -> { for (int r = 0; r < reps; r++) denseRun.run(); }) / reps;
            double flopsDense = 3 * 2.0 * w * w * batch, flopsSparse = 3 * 2.0 * m.activeCount() * batch;
            System.out.printf(Locale.ROOT, "sparse layer 1024x1024 density %.3f (%s), batch %d, fwd+bwd+wgrad: %.3f ms (%.0f GFLOP/s useful)%n",
                    m.density(), p, batch, ts, flopsSparse / ts / 1e6);
            System.out.printf(Locale.ROOT, "dense same shapes, %s: %.3f ms (%.0f GFLOP/s)%n", denseName, td, flopsDense / td / 1e6);
            System.out.printf(Locale.ROOT, "sparse/dense time ratio: %.3f (ideal at this density: %.3f)%n", ts / td, m.density());
        }
    }

    static void correlation(CudaBackend be, int batch) {
        Random rng = new Random(3);
        int w = 1024, reps = 20;
        try (Tensor Y = be.tensor(w, batch); Tensor X = be.tensor(w, batch); Tensor S = be.vector(w * w)) {
            be.write(Y, random(rng, w * batch));
            be.write(X, random(rng, w * batch));
            be.correlation(Y, X, batch, Correlation.COSINE, S);
            float tc = be.timeMs(() -> { for (int r = 0; r < reps; r++) be.correlation(Y, X, batch, Correlation.COSINE, S); }) / reps;
            double flops = 2.0 * w * w * batch;
            System.out.printf(Locale.ROOT, "hebbian correlation (cosine) 1024x1024 over batch %d: %.3f ms, %.0f GFLOP/s%n", batch, tc, flops / tc / 1e6);
            Blas blas = be.blas();
            if (blas == null) {
                System.out.println("cuBLAS SGEMM: not available (" + Cuda.probe().cublas() + "), no ratio");
                return;
            }
            Runnable g = () -> blas.sgemm(true, false, w, w, batch, be.pointer(X), X.ld, be.pointer(Y), Y.ld, be.pointer(S), w);
            g.run();
            float tg = be.timeMs(() -> { for (int r = 0; r < reps; r++) g.run(); }) / reps;
            System.out.printf(Locale.ROOT, "cuBLAS SGEMM same shape: %.3f ms, %.0f GFLOP/s; correlation/SGEMM rate ratio: %.3f%n",
                    tg, flops / tg / 1e6, tg / tc);
        }
    }

    private static float[] random(Random rng, int n) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) a[k] = rng.nextFloat();
        return a;
    }
}
