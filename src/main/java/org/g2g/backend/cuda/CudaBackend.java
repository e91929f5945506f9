package org.g2g.backend.cuda;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
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
 * The CUDA backend: maps each {@link Backend} operation to launches of our kernels
 * (cuda-kernels/*.cu), cuBLAS SGEMM for dense layers when it loads and passes its self-check,
 * and cuSPARSE SpMM as the optional engine for the inter-group edges. The device, stream,
 * module and library handles live in {@link CudaContext}, memory and copies in
 * {@link DeviceAllocator}. Every operation is queued on the one stream, so a training step
 * makes no host round trip (read() and sync() wait). Create it through {@link Cuda#open}.
 */
public final class CudaBackend implements Backend, KernelTimes {
    private static final int EW_BLOCK = 256;

    private final CudaContext ctx;
    private final DeviceAllocator memory;
    private final String sparseEngine;
    private final StepKernels steps;
    // scratch for correlation (norms, centred copies) and cuSPARSE's transposed edge values; grown on demand
    private DeviceMemory scratchNorms, scratchY, scratchX, scratchEdgesT;

    CudaBackend(int ordinal, GpuInfo gpu, String sparseEngine, byte[] fatbin) {
        this.sparseEngine = sparseEngine;
        this.ctx = new CudaContext(ordinal, gpu, fatbin, "cusparse".equals(sparseEngine));
        this.memory = ctx.memory;
        this.steps = new StepKernels(ctx);
        try {
            if (hostOnlyEmulation()) {
                CudaContext.warnOnce("G2G_CUDA_EMULATION=host-only: no kernel runs, so every number is meaningless "
                        + "(host cost only); the cuBLAS self-check is skipped");
            } else if (ctx.blas() != null) {
                String bad = CublasSelfCheck.run(this, ctx);
                if (bad != null) ctx.dropBlas("failed its self-check: " + bad);
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
        return ctx.gpu + ", dense layers: " + ctx.blasStatus() + ", sparse engine: " + sparseEngine;
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

    @Override public long deviceMemoryFree() { return memory.freeBytes(); }

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
    private int strideGrid(long n) {
        long blocks = (n + EW_BLOCK - 1) / EW_BLOCK;
        return (int) Math.max(1, Math.min(blocks, (long) ctx.smCount() * 16));
    }

    private static int ceil(long a, int b) {
        long r = (a + b - 1) / b;
        if (r > Integer.MAX_VALUE) throw new IllegalArgumentException("problem too large");
        return (int) r;
    }

    /** One of gemm_nn / gemm_tn / gemm_nt (gemm.cu) over Z problems. */
    private void gemm(String fn, int m, int n, int k, int z,
                      Object a, int lda, long sAz, Object aIdx, int sAIz,
                      Object b, int ldb, long sBz, Object bIdx, int sBIz,
                      Object c, int ldc, long sCz, Object cIdx, int sCIz,
                      Object cMask, Object rowScale, Object colScale, int mode) {
        if (m <= 0 || n <= 0 || z <= 0) return;
        launch(fn, ceil(n, 64), ceil(m, 64), z, 256, 1,
                m, n, k, a, lda, sAz, aIdx, sAIz, b, ldb, sBz, bIdx, sBIz, c, ldc, sCz, cIdx, sCIz,
                cMask, rowScale, colScale, mode);
    }

    private void spmmRows(int rows, int batch, Object ptr, Object idx, Object perm, Object vals,
                          CudaTensor src, Object bias, CudaTensor dst, boolean accumulate, boolean relu) {
        if (rows <= 0 || batch <= 0) return;
        launch("spmm_rows", ceil(rows, 4), ceil(batch, 128), 1, 128, 1,
                rows, batch, ptr, idx, perm, vals, src.ptr(), src.ld, bias, dst.ptr(), dst.ld, accumulate, relu);
    }

    private void zeroColumns(CudaTensor t, int rows, int batch) { memory.zeroColumns(t, rows, batch); }

    private void biasAct(CudaTensor y, int rows, int batch, CudaTensor bias, boolean relu) {
        long n = (long) rows * batch;
        if (n == 0) return;
        launch("bias_act", strideGrid(n), 1, 1, EW_BLOCK, 1, rows, batch, y.ptr(), y.ld, bias, relu);
    }

    private void sgemm(boolean transA, boolean transB, int m, int n, int k, CUdeviceptr a, int lda, CUdeviceptr b, int ldb,
                       CUdeviceptr c, int ldc) {
        Blas blas = ctx.blas();
        ctx.library("cublas_sgemm", () -> blas.sgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc));
    }

    private void spmm(int rows, int cols, int nnz, CudaIntVector ptr, CudaIntVector idx, CUdeviceptr vals,
                      CudaTensor b, int batch, CudaTensor c, float beta) {
        SparseLib sparse = ctx.sparse();
        ctx.library("cusparse_spmm", () -> sparse.spmm(rows, cols, nnz, ptr, idx, vals, b, batch, c, beta));
    }

    // ------------------------------------------------------------------ layers

    @Override
    public LayerPlan plan(Mask mask) {
        open();
        return new CudaPlan(memory, PackedLayout.of(mask));
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

    private static CUdeviceptr edgeValues(PackedLayout l, CudaTensor packed) {
        return packed.ptr().withByteOffset((long) l.blockTotal * 4);
    }

    private static void checkBatch(Tensor t, int rows, int batch, String what) {
        if (t.rows != rows || batch > t.cols || batch < 0) {
            throw new IllegalArgumentException(what + ": tensor " + t.rows + "x" + t.cols + " for " + rows + " rows, batch " + batch);
        }
    }

    @Override
    public void forward(LayerPlan p, Tensor w, Tensor bias, Tensor x, Tensor y, int batch, boolean relu) {
        CudaPlan plan = cplan(p);
        PackedLayout l = plan.layout;
        CudaTensor W = dev(w), B = dev(bias), X = dev(x), Y = dev(y);
        checkPacked(plan, w);
        checkBatch(x, l.in, batch, "forward input");
        checkBatch(y, l.out, batch, "forward output");
        open();
        if (batch == 0) return;
        switch (l.kind) {
            case DENSE -> {
                if (ctx.blas() != null) { // column-major view: Y^T (batch x out) = X^T (batch x in) W^T (in x out)
                    sgemm(false, false, batch, l.out, l.in, X.ptr(), X.ld, W.ptr(), l.in, Y.ptr(), Y.ld);
                } else {
                    gemm("gemm_nn", l.out, batch, l.in, 1, W, l.in, 0L, null, 0, X, X.ld, 0L, null, 0,
                            Y, Y.ld, 0L, null, 0, null, null, null, 0);
                }
                biasAct(Y, l.out, batch, B, relu);
            }
            case GROUPED -> {
                gemm("gemm_nn", l.outPer, batch, l.inPer, l.groups,
                        W, l.inPer, (long) l.outPer * l.inPer, null, 0,
                        X, X.ld, 0L, plan.inList, l.inPer,
                        Y, Y.ld, 0L, plan.outList, l.outPer, null, null, null, 0);
                if (ctx.sparse() != null && l.edges > 0) {
                    spmm(l.out, l.in, l.edges, plan.rowPtr, plan.col, edgeValues(l, W), X, batch, Y, 1f);
                    biasAct(Y, l.out, batch, B, relu);
                } else {
                    spmmRows(l.out, batch, plan.rowPtr, plan.col, null, edgeValues(l, W), X, B, Y, true, relu);
                }
            }
            case CSR -> {
                if (ctx.sparse() != null && l.edges > 0) {
                    zeroColumns(Y, l.out, batch); // then beta = 1: never rely on beta = 0 ignoring NaN in C
                    spmm(l.out, l.in, l.edges, plan.rowPtr, plan.col, edgeValues(l, W), X, batch, Y, 1f);
                    biasAct(Y, l.out, batch, B, relu);
                } else {
                    spmmRows(l.out, batch, plan.rowPtr, plan.col, null, edgeValues(l, W), X, B, Y, false, relu);
                }
            }
        }
    }

    @Override
    public void backwardInput(LayerPlan p, Tensor w, Tensor dy, Tensor dx, int batch) {
        CudaPlan plan = cplan(p);
        PackedLayout l = plan.layout;
        CudaTensor W = dev(w), DY = dev(dy), DX = dev(dx);
        checkPacked(plan, w);
        checkBatch(dy, l.out, batch, "backwardInput dy");
        checkBatch(dx, l.in, batch, "backwardInput dx");
        open();
        if (batch == 0) return;
        switch (l.kind) {
            case DENSE -> {
                if (ctx.blas() != null) { // dX^T (batch x in) = dY^T (batch x out) W (out x in)
                    sgemm(false, true, batch, l.in, l.out, DY.ptr(), DY.ld, W.ptr(), l.in, DX.ptr(), DX.ld);
                } else {
                    gemm("gemm_tn", l.in, batch, l.out, 1, W, l.in, 0L, null, 0, DY, DY.ld, 0L, null, 0,
                            DX, DX.ld, 0L, null, 0, null, null, null, 0);
                }
            }
            case GROUPED -> {
                gemm("gemm_tn", l.inPer, batch, l.outPer, l.groups,
                        W, l.inPer, (long) l.outPer * l.inPer, null, 0,
                        DY, DY.ld, 0L, plan.outList, l.outPer,
                        DX, DX.ld, 0L, plan.inList, l.inPer, null, null, null, 0);
                if (l.edges > 0) {
                    if (ctx.sparse() != null) cusparseInputGrad(l, plan, W, DY, DX, batch);
                    else spmmRows(l.in, batch, plan.colPtr, plan.cscRow, plan.cscPerm, edgeValues(l, W), DY, null, DX, true, false);
                }
            }
            case CSR -> {
                if (ctx.sparse() != null && l.edges > 0) {
                    zeroColumns(DX, l.in, batch);
                    cusparseInputGrad(l, plan, W, DY, DX, batch);
                } else spmmRows(l.in, batch, plan.colPtr, plan.cscRow, plan.cscPerm, edgeValues(l, W), DY, null, DX, false, false);
            }
        }
    }

    /** dX += W^T dY on the edges through cuSPARSE: W^T as a CSR (colPtr, cscRow, values permuted). */
    private void cusparseInputGrad(PackedLayout l, CudaPlan plan, CudaTensor W, CudaTensor DY, CudaTensor DX, int batch) {
        scratchEdgesT = ensure(scratchEdgesT, (long) l.edges * 4, "edge weights in CSC order");
        launch("permute_values", strideGrid(l.edges), 1, 1, EW_BLOCK, 1, l.edges, plan.cscPerm, edgeValues(l, W), scratchEdgesT);
        spmm(l.in, l.out, l.edges, plan.colPtr, plan.cscRow, scratchEdgesT.ptr(), DY, batch, DX, 1f);
    }

    @Override
    public void weightGrad(LayerPlan p, Tensor x, Tensor dy, Tensor gw, Tensor gb, int batch) {
        CudaPlan plan = cplan(p);
        PackedLayout l = plan.layout;
        CudaTensor X = dev(x), DY = dev(dy), GW = dev(gw), GB = dev(gb);
        checkPacked(plan, gw);
        checkBatch(x, l.in, batch, "weightGrad x");
        checkBatch(dy, l.out, batch, "weightGrad dy");
        if (gb.size() < l.out) throw new IllegalArgumentException("weightGrad: bias gradient too short");
        open();
        launch("row_sum", ceil(l.out, 8), 1, 1, 256, 1, l.out, batch, DY.ptr(), DY.ld, GB.ptr());
        switch (l.kind) {
            case DENSE -> {
                if (ctx.blas() != null && batch > 0) { // gW^T (in x out) = X (in x batch as col-major^T) dY^T
                    sgemm(true, false, l.in, l.out, batch, X.ptr(), X.ld, DY.ptr(), DY.ld, GW.ptr(), l.in);
                } else {
                    gemm("gemm_nt", l.out, l.in, batch, 1, DY, DY.ld, 0L, null, 0, X, X.ld, 0L, null, 0,
                            GW, l.in, 0L, null, 0, null, null, null, 0);
                }
            }
            case GROUPED -> {
                gemm("gemm_nt", l.outPer, l.inPer, batch, l.groups,
                        DY, DY.ld, 0L, plan.outList, l.outPer,
                        X, X.ld, 0L, plan.inList, l.inPer,
                        GW, l.inPer, (long) l.outPer * l.inPer, null, 0,
                        plan.blockMask, null, null, plan.blockMask != null ? 1 : 0);
                edgeGrad(l, plan, X, DY, GW, batch);
            }
            case CSR -> edgeGrad(l, plan, X, DY, GW, batch);
        }
    }

    private void edgeGrad(PackedLayout l, CudaPlan plan, CudaTensor x, CudaTensor dy, CudaTensor gw, int batch) {
        if (l.edges == 0) return;
        launch("edge_grad", ceil(l.edges, 8), 1, 1, 256, 1, l.edges, batch, plan.edgeRow, plan.col,
                x.ptr(), x.ld, dy.ptr(), dy.ld, edgeValues(l, gw));
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
    public void correlation(Tensor y, Tensor x, int batch, Correlation kind, Tensor scores) {
        CudaTensor Y = dev(y), X = dev(x), S = dev(scores);
        int out = y.rows, in = x.rows;
        if (scores.size() < (long) out * in || (scores.rows > 1 && scores.ld != scores.cols)) {
            throw new IllegalArgumentException("correlation: scores must hold out*in floats contiguously");
        }
        if (batch > y.cols || batch > x.cols) throw new IllegalArgumentException("correlation: batch too large");
        open();
        if (kind == Correlation.RAW) {
            gemm("gemm_nt", out, in, batch, 1, Y, Y.ld, 0L, null, 0, X, X.ld, 0L, null, 0,
                    S, in, 0L, null, 0, null, null, null, 0);
            return;
        }
        boolean centre = kind == Correlation.PEARSON;
        scratchNorms = ensure(scratchNorms, (long) (out + in) * 4, "correlation norms");
        CUdeviceptr normY = scratchNorms.ptr(), normX = scratchNorms.ptr().withByteOffset((long) out * 4);
        Object a = Y, b = X;
        int lda = Y.ld, ldb = X.ld;
        if (centre) {
            int ld = Math.max(1, batch);
            scratchY = ensure(scratchY, (long) out * ld * 4, "centred outputs");
            scratchX = ensure(scratchX, (long) in * ld * 4, "centred inputs");
            a = scratchY;
            b = scratchX;
            lda = ld;
            ldb = ld;
        }
        launch("row_stats", ceil(out, 8), 1, 1, 256, 1, out, batch, Y.ptr(), Y.ld, centre, normY,
                centre ? scratchY.ptr() : null, lda);
        launch("row_stats", ceil(in, 8), 1, 1, 256, 1, in, batch, X.ptr(), X.ld, centre, normX,
                centre ? scratchX.ptr() : null, ldb);
        gemm("gemm_nt", out, in, batch, 1, a, lda, 0L, null, 0, b, ldb, 0L, null, 0,
                S, in, 0L, null, 0, null, normY, normX, 2);
    }

    private DeviceMemory ensure(DeviceMemory m, long bytes, String what) { return memory.ensure(m, bytes, what); }

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
