package org.g2g.backend.cuda;

import static org.g2g.backend.cuda.Geometry.EW_BLOCK;
import static org.g2g.backend.cuda.Geometry.ceil;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
import org.g2g.backend.IntVector;
import org.g2g.backend.KernelTimes;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.StepRecorder;
import org.g2g.backend.StepScalars;
import org.g2g.backend.Tensor;
import org.g2g.model.Mask;

/**
 * The CUDA backend: checks each {@link Backend} operation's arguments and maps it to launches
 * of our kernels (cuda-kernels/*.cu). The device, stream, events, kernel module and library
 * handles live in {@link CudaContext}, memory and copies in {@link DeviceAllocator}; a layer's
 * products are chosen by {@link LayerKernels} (cuBLAS SGEMM for dense layers when it loads and
 * passes its self-check, cuSPARSE SpMM as the optional engine for the edges), the Hebbian
 * correlation by {@link CorrelationKernels}, the recorded step's scalars and multi-tensor
 * optimizer by {@link StepKernels}. Every operation is queued on the one stream, so a training
 * step makes no host round trip (read() and sync() wait). Create it through {@link Cuda#open}.
 */
public final class CudaBackend implements Backend, KernelTimes {
    private final CudaContext ctx;
    private final DeviceAllocator memory;
    private final String sparseEngine;
    private final StepKernels steps;
    private final LayerKernels layers;
    private final CorrelationKernels correlation;
    private final boolean tf32;

    CudaBackend(int ordinal, GpuInfo gpu, String sparseEngine, byte[] fatbin, boolean tf32) {
        this.sparseEngine = sparseEngine;
        this.tf32 = tf32;
        this.ctx = new CudaContext(ordinal, gpu, fatbin, "cusparse".equals(sparseEngine));
        this.memory = ctx.memory;
        this.steps = new StepKernels(ctx);
        DeviceGemm gemm = new DeviceGemm(ctx);
        CudaWorkspace work = new CudaWorkspace(memory);
        this.layers = new LayerKernels(ctx, gemm, work);
        this.correlation = new CorrelationKernels(ctx, gemm, work);
        try {
            if (hostOnlyEmulation()) {
                CudaContext.warnOnce("G2G_CUDA_EMULATION=host-only: no kernel runs, so every number is meaningless "
                        + "(host cost only); the cuBLAS self-check is skipped");
            } else if (ctx.blas() != null) {
                String bad = CublasSelfCheck.run(this, ctx); // in fp32, against fp32 references
                if (bad != null) ctx.dropBlas("failed its self-check: " + bad);
            }
            if (tf32) { // after the self-check, which compares fp32 products
                layers.useTf32();
                if (ctx.blas() != null) ctx.blas().tf32TensorOps();
            }
        } catch (RuntimeException | LinkageError e) {
            try {
                ctx.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The emulated device in its host-only mode (native/emu: kernels and library calls counted, not run). */
    static boolean hostOnlyEmulation() { return "host-only".equals(System.getenv("G2G_CUDA_EMULATION")); }

    // ------------------------------------------------------------------ identity

    @Override public String name() { return "cuda:" + ctx.ordinal; }

    @Override
    public String description() {
        return ctx.gpu + ", dense layers: " + ctx.blasStatus() + ", sparse engine: " + sparseEngine
                + (tf32 ? ", precision tf32" : "");
    }

    /** True when dense products go to cuBLAS (false: our gemm.cu kernels). */
    public boolean usesCublas() { return ctx.blas() != null; }

    public String sparseEngine() { return sparseEngine; }

    // ------------------------------------------------------------------ memory

    private void open() { ctx.open(); }

    @Override public Tensor tensor(int rows, int cols) { return memory.tensor(rows, cols); }

    @Override public IntVector ints(int n) { return memory.ints(n); }

    static CudaTensor dev(Tensor t) {
        if (t instanceof CudaTensor c) return c;
        throw new IllegalArgumentException("not a CUDA tensor: " + (t == null ? "null" : t.getClass().getSimpleName()));
    }

    static CudaIntVector dev(IntVector v) {
        if (v instanceof CudaIntVector c) return c;
        throw new IllegalArgumentException("not a CUDA int vector: " + (v == null ? "null" : v.getClass().getSimpleName()));
    }

    @Override public void write(Tensor t, float[] src) { memory.write(dev(t), src); }

    @Override public float[] read(Tensor t) { return memory.read(dev(t)); }

    @Override public void write(IntVector v, int[] src) { memory.write(dev(v), src); }

    @Override public int[] read(IntVector v) { return memory.read(dev(v)); }

    @Override public void zero(Tensor t) { memory.zero(dev(t)); }

    @Override public void copy(Tensor src, Tensor dst) { memory.copy(dev(src), dev(dst)); }

    @Override public void sync() { ctx.sync(); }

    @Override public long deviceBytes() { return memory.liveBytes(); }

    @Override public long deviceMemoryFree() { return memory.shareBytes(); }

    DeviceAllocator memory() { return memory; }

    /** Live allocations (for leak checks in tests). */
    public int liveAllocations() { return memory.liveCount(); }

    // ------------------------------------------------------------------ timing

    /** Milliseconds of device time {@code work} queues on the stream (CUDA events). */
    public float timeMs(Runnable work) { return ctx.timeMs(work); }

    @Override public Map<String, Double> kernelMillis() { return ctx.launchMillis(); }

    @Override public void resetKernelTimes() { ctx.resetLaunchTimes(); }

    // ------------------------------------------------------------------ launches

    private void launch(String fn, int gx, int gy, int gz, int bx, int by, Object... args) {
        ctx.launch(fn, gx, gy, gz, bx, by, args);
    }

    /** Grid-stride kernels: enough blocks to fill the GPU, never more than the work. */
    private int strideGrid(long n) { return Geometry.strideGrid(n, EW_BLOCK, ctx.smCount(), 16); }

    // ------------------------------------------------------------------ layers

    @Override
    public LayerPlan plan(Mask mask) {
        open();
        return new CudaPlan(memory, CudaLayout.of(mask));
    }

    private static CudaPlan cplan(LayerPlan p) {
        if (p instanceof CudaPlan c) return c;
        throw new IllegalArgumentException("not a CUDA layer plan");
    }

    @Override
    public void pack(LayerPlan p, float[] dense, Tensor packed) {
        CudaPlan c = cplan(p);
        float[] v = c.layout.pack(dense);
        checkPacked(c, packed);
        if (packed.rows == 1) {
            float[] full = v.length == packed.cols ? v : Arrays.copyOf(v, packed.cols);
            write(packed, full);
        } else {
            throw new IllegalArgumentException("packed weights must be a vector (tensor(1, n))");
        }
    }

    @Override
    public float[] unpack(LayerPlan p, Tensor packed) {
        CudaPlan c = cplan(p);
        checkPacked(c, packed);
        return c.layout.unpack(read(packed));
    }

    private static void checkPacked(CudaPlan c, Tensor t) {
        if (t.size() < c.packedSize()) {
            throw new IllegalArgumentException("packed tensor of " + t.size() + " floats for a plan of " + c.packedSize());
        }
    }

    private static void checkBatch(Tensor t, int rows, int batch, String what) {
        if (t.rows != rows || batch > t.cols || batch < 0) {
            throw new IllegalArgumentException(what + ": tensor " + t.rows + "x" + t.cols + " for " + rows + " rows, batch " + batch);
        }
    }

    @Override
    public void forward(LayerPlan p, Tensor w, Tensor bias, Tensor x, Tensor y, int batch, boolean relu) {
        CudaPlan plan = cplan(p);
        CudaTensor W = dev(w), B = dev(bias), X = dev(x), Y = dev(y);
        checkPacked(plan, w);
        checkBatch(x, plan.layout.in, batch, "forward input");
        checkBatch(y, plan.layout.out, batch, "forward output");
        open();
        if (batch > 0) layers.forward(plan, W, B, X, Y, batch, relu);
    }

    @Override
    public void backwardInput(LayerPlan p, Tensor w, Tensor dy, Tensor dx, int batch) {
        CudaPlan plan = cplan(p);
        CudaTensor W = dev(w), DY = dev(dy), DX = dev(dx);
        checkPacked(plan, w);
        checkBatch(dy, plan.layout.out, batch, "backwardInput dy");
        checkBatch(dx, plan.layout.in, batch, "backwardInput dx");
        open();
        if (batch > 0) layers.backwardInput(plan, W, DY, DX, batch);
    }

    @Override
    public void weightGrad(LayerPlan p, Tensor x, Tensor dy, Tensor gw, Tensor gb, int batch) {
        CudaPlan plan = cplan(p);
        CudaTensor X = dev(x), DY = dev(dy), GW = dev(gw), GB = dev(gb);
        checkPacked(plan, gw);
        checkBatch(x, plan.layout.in, batch, "weightGrad x");
        checkBatch(dy, plan.layout.out, batch, "weightGrad dy");
        if (gb.size() < plan.layout.out) throw new IllegalArgumentException("weightGrad: bias gradient too short");
        open();
        layers.weightGrad(plan, X, DY, GW, GB, batch);
    }

    @Override
    public void layerBackward(LayerPlan p, Tensor w, Tensor x, Tensor dy, Tensor gw, Tensor gb, Tensor dx, boolean reluX,
                              int batch) {
        CudaPlan plan = cplan(p);
        CudaLayout l = plan.layout;
        CudaTensor W = dev(w), X = dev(x), DY = dev(dy), GW = dev(gw), GB = dev(gb), DX = dx == null ? null : dev(dx);
        checkPacked(plan, w);
        checkPacked(plan, gw);
        checkBatch(x, l.in, batch, "layerBackward x");
        checkBatch(dy, l.out, batch, "layerBackward dy");
        if (dx != null) checkBatch(dx, l.in, batch, "layerBackward dx");
        if (gb.size() < l.out) throw new IllegalArgumentException("layerBackward: bias gradient too short");
        open();
        layers.layerBackward(plan, W, X, DY, GW, GB, DX, reluX, batch, () -> reluBackward(x, dx, batch));
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, int batch) {
        CudaTensor Y = dev(y), DY = dev(dy);
        if (y.rows != dy.rows || batch > y.cols || batch > dy.cols) throw new IllegalArgumentException("reluBackward: shape mismatch");
        open();
        long n = (long) y.rows * batch;
        if (n == 0) return;
        launch("relu_backward", strideGrid(n), 1, 1, EW_BLOCK, 1, y.rows, batch, Y.ptr(), Y.ld, DY.ptr(), DY.ld);
    }

    @Override
    public void softmaxCrossEntropy(Tensor logits, IntVector labels, Tensor dlogits, Tensor stats, int batch) {
        CudaTensor Z = dev(logits), S = dev(stats);
        CudaIntVector L = dev(labels);
        CudaTensor DZ = dlogits == null ? null : dev(dlogits);
        if (stats.size() < 2 || batch > logits.cols || labels.length < batch) throw new IllegalArgumentException("softmaxCrossEntropy: bad shapes");
        open();
        if (batch == 0) return;
        launch("softmax_xent", ceil(batch, 256), 1, 1, 256, 1, logits.rows, batch, Z.ptr(), Z.ld, L.ptr(),
                DZ == null ? null : DZ.ptr(), DZ == null ? 0 : DZ.ld, S.ptr());
    }

    @Override
    public void forwardLoss(LayerPlan p, Tensor w, Tensor bias, Tensor x, Tensor logits, IntVector labels, Tensor dlogits,
                            Tensor stats, int batch) {
        CudaPlan plan = cplan(p);
        if (!layers.fusesLoss(plan.layout)) { // the head on cuBLAS (more than 64 classes): two launches
            Backend.super.forwardLoss(p, w, bias, x, logits, labels, dlogits, stats, batch);
            return;
        }
        CudaTensor W = dev(w), B = dev(bias), X = dev(x), Z = dev(logits), S = dev(stats);
        CudaIntVector L = dev(labels);
        CudaTensor DZ = dlogits == null ? null : dev(dlogits);
        checkPacked(plan, w);
        checkBatch(x, plan.layout.in, batch, "forward input");
        checkBatch(logits, plan.layout.out, batch, "forward output");
        if (DZ != null) checkBatch(dlogits, plan.layout.out, batch, "loss gradient");
        if (stats.size() < 2 || labels.length < batch) throw new IllegalArgumentException("forwardLoss: bad shapes");
        open();
        if (batch > 0) layers.forwardLoss(plan, W, B, X, Z, L, DZ, S, batch);
    }

    @Override
    public void correlation(Tensor y, Tensor x, int batch, Correlation kind, Tensor scores) {
        CudaTensor Y = dev(y), X = dev(x), S = dev(scores);
        if (scores.size() < (long) y.rows * x.rows || (scores.rows > 1 && scores.ld != scores.cols)) {
            throw new IllegalArgumentException("correlation: scores must hold out*in floats contiguously");
        }
        if (batch > y.cols || batch > x.cols) throw new IllegalArgumentException("correlation: batch too large");
        open();
        correlation.correlation(Y, X, batch, kind, S);
    }

    @Override
    public void ema(Tensor acc, Tensor cur, float beta) {
        CudaTensor A = dev(acc), C = dev(cur);
        if (acc.rows != cur.rows || acc.cols != cur.cols || acc.ld != cur.ld) throw new IllegalArgumentException("ema: shape mismatch");
        open();
        long n = A.capacity();
        launch("ema", strideGrid(n), 1, 1, EW_BLOCK, 1, n, A.ptr(), C.ptr(), beta, 1f - beta);
    }

    @Override
    public void adam(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
                     float eps, float weightDecay, long t) {
        CudaTensor W = dev(w), G = dev(g), M = dev(m), V = dev(v);
        long n = w.size();
        if (g.size() < n || m.size() < n || v.size() < n) throw new IllegalArgumentException("adam: shape mismatch");
        open();
        // the same float arithmetic as HostOps.adam, so the kernel reproduces it bit for bit
        float step = StepScalars.adamStep(lr, beta1, t);
        float invSqrtBc2 = StepScalars.adamInvSqrtBc2(beta2, t);
        if (n == 0) return;
        launch("adam", strideGrid(n), 1, 1, EW_BLOCK, 1, n, W.ptr(), G.ptr(), M.ptr(), V.ptr(), step,
                beta1, 1 - beta1, beta2, 1 - beta2, eps, weightDecay, invSqrtBc2);
    }

    @Override
    public void sgd(Tensor w, Tensor g, Tensor buf, float lr, float momentum, boolean nesterov, float weightDecay) {
        CudaTensor W = dev(w), G = dev(g), B = dev(buf);
        long n = w.size();
        if (g.size() < n || buf.size() < n) throw new IllegalArgumentException("sgd: shape mismatch");
        open();
        if (n == 0) return;
        launch("sgd", strideGrid(n), 1, 1, EW_BLOCK, 1, n, W.ptr(), G.ptr(), B.ptr(), lr, momentum, nesterov, weightDecay);
    }

    @Override
    public void gather(Tensor images, IntVector labels, IntVector order, int offset, int batch, Tensor x, IntVector yb) {
        CudaTensor I = dev(images), X = dev(x);
        CudaIntVector L = dev(labels), O = dev(order), YB = dev(yb);
        int f = images.cols;
        if (x.rows != f || batch > x.cols || offset < 0 || offset + batch > order.length || yb.length < batch) {
            throw new IllegalArgumentException("gather: bad shapes");
        }
        open();
        if (batch == 0) return;
        launch("gather_batch", ceil(f, 32), ceil(batch, 32), 1, 32, 8, f, batch, I.ptr(), I.ld, O.ptr(), offset,
                X.ptr(), X.ld, L.ptr(), YB.ptr());
    }

    // ------------------------------------------------------------------ steps (StepKernels, StepGraphs)

    @Override public void beginStep(StepScalars s) { steps.begin(s); }

    @Override
    public void gather(Tensor images, IntVector labels, IntVector order, StepScalars s, int batch, Tensor x, IntVector yb) {
        steps.gather(dev(images), dev(labels), dev(order), s, batch, dev(x), dev(yb));
    }

    @Override
    public void adam(List<Tensor> w, List<Tensor> g, List<Tensor> m, List<Tensor> v, float beta1, float beta2, float eps,
                     float weightDecay, StepScalars s) {
        steps.adam(w, g, m, v, beta1, beta2, eps, weightDecay, s);
    }

    @Override
    public void sgd(List<Tensor> w, List<Tensor> g, List<Tensor> buf, float momentum, boolean nesterov, float weightDecay,
                    StepScalars s) {
        steps.sgd(w, g, buf, momentum, nesterov, weightDecay, s);
    }

    @Override public StepRecorder stepRecorder() { return ctx.graphs(); }

    @Override public long launches() { return ctx.launches(); }

    /** The patch encoder's gather and reshapes (cuda-kernels/encoder.cu copy_strips). */
    @Override
    public void copyStrips(Tensor src, Tensor dst, IntVector strips, int count, int width) {
        CudaTensor S = dev(src), D = dev(dst);
        CudaIntVector P = dev(strips);
        if (count < 0 || 4L * count > strips.length) throw new IllegalArgumentException("copyStrips: bad shapes");
        open();
        long n = (long) count * width;
        if (n == 0) return;
        launch("copy_strips", strideGrid(n), 1, 1, EW_BLOCK, 1, count, width, S.ptr(), S.ld, D.ptr(), D.ld, P.ptr());
    }

    /** CIFAR's random crop and flip of a training batch (cuda-kernels/encoder.cu crop_flip). */
    @Override
    public void cropFlip(Tensor src, Tensor dst, IntVector params, int channels, int height, int width, int pad,
                         int batch) {
        CudaTensor S = dev(src), D = dev(dst);
        CudaIntVector P = dev(params);
        int rows = channels * height * width;
        if (src.rows != rows || dst.rows != rows || batch > src.cols || batch > dst.cols || 3L * batch > params.length) {
            throw new IllegalArgumentException("cropFlip: bad shapes");
        }
        open();
        long n = (long) rows * batch;
        if (n == 0) return;
        launch("crop_flip", strideGrid(n), 1, 1, EW_BLOCK, 1, channels, height, width, pad, batch, S.ptr(), S.ld,
                D.ptr(), D.ld, P.ptr());
    }

    @Override
    public void close() { ctx.close(); }
}
