package org.g2g.backend.cpu;

import static org.g2g.backend.cpu.Kernels.L;
import static org.g2g.backend.cpu.Kernels.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
import org.g2g.backend.IntVector;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.backend.layout.GroupedLayout;
import org.g2g.model.Mask;

/**
 * The fast CPU backend: block-masked layers ({@link CpuPlan} over the shared {@link GroupedLayout}:
 * dense group blocks as small GEMMs, the rest as sparse edges) with register-tiled Vector API kernels ({@link Kernels}),
 * on a fixed pool of threads with static work partitioning, so results are bit-identical
 * run to run for a given thread count.
 *
 * This class maps {@link Backend} operations onto the pieces that do them: {@link VectorLayers}
 * (or {@link BlasLayers} with OpenBLAS) for the layer products, after {@link BatchPadding};
 * {@link CorrelationProduct} for Hebbian scores; {@link VectorAdam} for Adam; {@link HostOps}
 * for memory, loss, EMA and SGD; ReLU gradient and the batch gather are here.
 *
 * Partitioning: forward and weight gradient split row panels, the input gradient splits
 * column panels, so every output element has one owner and one summation order.
 * Denormals: activations, input gradients, ReLU-masked gradients and weight gradients are
 * flushed below 1e-30 (Java cannot set FTZ); Adam flushes its state like {@link HostOps}.
 *
 * JVM flags: --add-modules jdk.incubator.vector (required); -XX:ObjectAlignmentInBytes=64 (rows
 * start on 64-byte boundaries only then, see {@link CpuTensor}; ~30% on the sparse kernels);
 * -XX:+UseParallelGC.
 */
public final class CpuBackend extends HostOps implements Backend {
    private final WorkPool pool;
    private final CpuWorkspace work = new CpuWorkspace();

    /** Non-null when OpenBLAS multiplies the dense blocks; otherwise {@link #vector} does. */
    private final BlasLayers blas;
    /** The engine asked for: OPENBLAS with {@link #blas} null means OpenBLAS did not load here. */
    private final DenseEngine requested;
    private final VectorLayers vector;
    private final CorrelationProduct correlation;
    private final VectorAdam adam;

    /** With the dense engine the environment asks for ({@link DenseEngine#fromEnvironment()}). */
    public CpuBackend(int threads) { this(threads, DenseEngine.fromEnvironment()); }

    /** OPENBLAS falls back to the Vector API kernels where OpenBLAS does not load ({@link #description()} says so). */
    public CpuBackend(int threads, DenseEngine engine) {
        int n = threads <= 0 ? Runtime.getRuntime().availableProcessors() : threads;
        this.pool = new WorkPool(n);
        this.requested = engine;
        this.blas = engine == DenseEngine.OPENBLAS && NativeBlas.available() ? new BlasLayers(pool, work) : null;
        this.vector = new VectorLayers(pool, work);
        this.correlation = new CorrelationProduct(pool);
        this.adam = new VectorAdam(pool);
    }

    /** Who multiplies the dense blocks in this backend. */
    public DenseEngine denseEngine() { return blas != null ? DenseEngine.OPENBLAS : DenseEngine.VECTOR; }

    public int threads() { return pool.threads; }

    @Override public String name() { return "cpu"; }

    @Override
    public String description() {
        return "CPU (" + System.getProperty("os.arch") + "), " + pool.threads + " threads, Vector API "
                + S.vectorBitSize() + "-bit (" + L + " floats), rows 64-byte aligned: "
                + (objectAlignment() >= 64 ? "yes" : "no (pass -XX:ObjectAlignmentInBytes=64, ~30% faster)")
                + "; dense blocks: " + (blas != null ? NativeBlas.STATUS : "Vector API kernels"
                        + (requested == DenseEngine.OPENBLAS ? " (" + NativeBlas.STATUS + ")" : ""));
    }

    /** The JVM's object alignment: rows are 64-byte aligned only when objects are. */
    static int objectAlignment() {
        try {
            var hs = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return Integer.parseInt(hs.getVMOption("ObjectAlignmentInBytes").getValue());
        } catch (RuntimeException | LinkageError e) {
            return 8;
        }
    }

    // ---- layers ----

    @Override
    public LayerPlan plan(Mask mask) { return new CpuPlan(mask, pool.threads); }

    private static CpuPlan cp(LayerPlan p) {
        if (!(p instanceof CpuPlan b)) throw new IllegalArgumentException("plan was not made by CpuBackend");
        return b;
    }

    @Override
    public void pack(LayerPlan lp, float[] dense, Tensor packed) {
        cp(lp).layout.pack(dense, CpuTensor.of(packed), CpuTensor.off(packed));
    }

    @Override
    public float[] unpack(LayerPlan lp, Tensor packed) {
        CpuPlan p = cp(lp);
        float[] dense = new float[p.out * p.in];
        p.layout.unpack(CpuTensor.of(packed), CpuTensor.off(packed), dense);
        return dense;
    }

    @Override
    public void forward(LayerPlan lp, Tensor w, Tensor bias, Tensor x, Tensor y, int batch, boolean relu) {
        CpuPlan p = cp(lp);
        Kernels.Cols c = new Kernels.Cols(batch);
        if (batch <= 0) return;
        if (!BatchPadding.fits(x, c) || !BatchPadding.fits(y, c)) {
            Tensor xp = BatchPadding.fits(x, c) ? x : BatchPadding.padded(x, batch, true);
            Tensor yp = BatchPadding.fits(y, c) ? y : BatchPadding.padded(y, batch, false);
            forward(lp, w, bias, xp, yp, batch, relu);
            if (yp != y) BatchPadding.copyCols(yp, y, batch);
            return;
        }
        if (blas != null) {
            blas.forward(p, CpuTensor.of(w), CpuTensor.off(w), CpuTensor.of(bias), CpuTensor.off(bias),
                    CpuTensor.of(x), CpuTensor.off(x), x.ld, CpuTensor.of(y), CpuTensor.off(y), y.ld, batch, relu, c);
        } else vector.forward(p, w, bias, x, y, batch, relu, c);
    }

    @Override
    public void backwardInput(LayerPlan lp, Tensor w, Tensor dy, Tensor dx, int batch) {
        CpuPlan p = cp(lp);
        Kernels.Cols c = new Kernels.Cols(batch);
        if (batch <= 0) return;
        if (!BatchPadding.fits(dy, c) || !BatchPadding.fits(dx, c)) {
            Tensor gp = BatchPadding.fits(dy, c) ? dy : BatchPadding.padded(dy, batch, true);
            Tensor xp = BatchPadding.fits(dx, c) ? dx : BatchPadding.padded(dx, batch, false);
            backwardInput(lp, w, gp, xp, batch);
            if (xp != dx) BatchPadding.copyCols(xp, dx, batch);
            return;
        }
        if (blas != null) {
            blas.backwardInput(p, CpuTensor.of(w), CpuTensor.off(w), CpuTensor.of(dy), CpuTensor.off(dy), dy.ld,
                    CpuTensor.of(dx), CpuTensor.off(dx), dx.ld, batch, c);
        } else vector.backwardInput(p, w, dy, dx, batch, c);
    }

    @Override
    public void weightGrad(LayerPlan lp, Tensor x, Tensor dy, Tensor gw, Tensor gb, int batch) {
        CpuPlan p = cp(lp);
        Kernels.Cols c = new Kernels.Cols(batch);
        if (!BatchPadding.fits(x, c) || !BatchPadding.fits(dy, c)) {
            weightGrad(lp, BatchPadding.fits(x, c) ? x : BatchPadding.padded(x, batch, true),
                    BatchPadding.fits(dy, c) ? dy : BatchPadding.padded(dy, batch, true), gw, gb, batch);
            return;
        }
        if (blas != null) {
            blas.weightGrad(p, CpuTensor.of(x), CpuTensor.off(x), x.ld, CpuTensor.of(dy), CpuTensor.off(dy), dy.ld,
                    CpuTensor.of(gw), CpuTensor.off(gw), CpuTensor.of(gb), CpuTensor.off(gb), batch, c);
        } else vector.weightGrad(p, x, dy, gw, gb, batch, c);
    }

    @Override
    public void correlation(Tensor y, Tensor x, int batch, Correlation kind, Tensor scores) {
        correlation.scores(y, x, batch, kind, scores);
    }

    // ---- O(params) and O(units x batch) ops ----

    @Override
    public void reluBackward(Tensor y, Tensor dy, int batch) {
        float[] A = CpuTensor.of(y), G = CpuTensor.of(dy);
        int rows = y.rows, lda = y.ld, ldg = dy.ld, ao = CpuTensor.off(y), go = CpuTensor.off(dy);
        int full = batch / L * L;
        pool.run(t -> {
            int r0 = pool.split(rows, t, 1), r1 = pool.split(rows, t + 1, 1);
            for (int r = r0; r < r1; r++) {
                int ya = ao + r * lda, ga = go + r * ldg;
                for (int b = 0; b < full; b += L) {
                    FloatVector a = FloatVector.fromArray(S, A, ya + b);
                    FloatVector g = FloatVector.fromArray(S, G, ga + b);
                    g = g.blend(0f, a.compare(VectorOperators.LE, 0f).or(g.abs().compare(VectorOperators.LT, Kernels.TINY)));
                    g.intoArray(G, ga + b);
                }
                for (int b = full; b < batch; b++) {
                    if (A[ya + b] <= 0f || Math.abs(G[ga + b]) < Kernels.TINY) G[ga + b] = 0f;
                }
            }
        });
    }

    /** Vector Adam, elementwise identical to {@link HostOps#adam} (same operation order, no fused multiply-add). */
    @Override
    public void adam(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
                     float eps, float weightDecay, long t) {
        adam.adam(w, g, m, v, lr, beta1, beta2, eps, weightDecay, t);
    }

    /** Gathers by blocks of 8 samples so each feature row of x is written in runs. */
    @Override
    public void gather(Tensor images, IntVector labels, IntVector order, int offset, int batch, Tensor x, IntVector yb) {
        float[] src = CpuTensor.of(images), dst = CpuTensor.of(x);
        int[] lab = CpuIntVector.of(labels), ord = CpuIntVector.of(order), out = CpuIntVector.of(yb);
        int f = images.cols, lds = images.ld, ldx = x.ld, io = CpuTensor.off(images), xo = CpuTensor.off(x);
        for (int b = 0; b < batch; b++) out[b] = lab[ord[offset + b]];
        pool.run(t -> {
            int f0 = pool.split(f, t, 16), f1 = pool.split(f, t + 1, 16);
            int[] base = new int[8];
            for (int b0 = 0; b0 < batch; b0 += 8) {
                int nbk = Math.min(8, batch - b0);
                for (int q = 0; q < nbk; q++) base[q] = io + ord[offset + b0 + q] * lds;
                for (int k = f0; k < f1; k++) {
                    int d = xo + k * ldx + b0;
                    for (int q = 0; q < nbk; q++) dst[d + q] = src[base[q] + k];
                }
            }
        });
    }

    @Override
    public void close() { pool.close(); }
}
