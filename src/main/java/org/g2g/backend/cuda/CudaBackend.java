package org.g2g.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD2D32Async;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import org.g2g.UserError;
import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
import org.g2g.backend.IntVector;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.model.Mask;

/**
 * The CUDA backend: our own kernels (cuda-kernels/*.cu, one fatbin) through the JCuda driver
 * API, cuBLAS for dense layers when it loads, cuSPARSE SpMM as the optional engine for the
 * inter-group edges. One primary context, one stream; every operation is queued on that stream,
 * so a training step makes no host round trip (read() and sync() wait).
 *
 * Memory: every allocation is a tracked {@link DeviceMemory}; close() frees whatever is still
 * live, so nothing leaks across runs in one JVM. Create it through {@link Cuda#open}.
 */
public final class CudaBackend implements Backend {
    private static final ThreadLocal<CUcontext> CURRENT = new ThreadLocal<>();
    private static final int EW_BLOCK = 256;

    private final int ordinal;
    private final GpuInfo gpu;
    private final String sparseEngine;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final CUevent startEvent = new CUevent(), stopEvent = new CUevent();
    private final Set<DeviceMemory> live = new LinkedHashSet<>();
    private long liveBytes;
    private boolean contextRetained, streamCreated, eventsCreated, closed;
    private Kernels kernels;
    private Blas blas;
    private String blasStatus;
    private SparseLib sparse;
    private int smCount = 1;
    // scratch for correlation (norms, centred copies) and selection state; grown on demand
    private DeviceMemory scratchNorms, scratchY, scratchX, selectState, scratchEdgesT;

    CudaBackend(int ordinal, GpuInfo gpu, String sparseEngine, byte[] fatbin) {
        this.ordinal = ordinal;
        this.gpu = gpu;
        this.sparseEngine = sparseEngine;
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            cuDeviceGet(device, ordinal);
            cuDevicePrimaryCtxRetain(context, device);
            contextRetained = true;
            bind();
            int[] v = new int[1];
            cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
            smCount = Math.max(1, v[0]);
            kernels = new Kernels(fatbin);
            cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT);
            streamCreated = true;
            cuEventCreate(startEvent, CUevent_flags.CU_EVENT_DEFAULT);
            cuEventCreate(stopEvent, CUevent_flags.CU_EVENT_DEFAULT);
            eventsCreated = true;
            String[] why = new String[1];
            blas = Blas.create(stream, why);
            if (blas != null) {
                String bad = cublasSelfCheck();
                if (bad != null) {
                    blas.close();
                    blas = null;
                    why[0] = "failed its self-check: " + bad;
                    warnOnce("cuBLAS " + why[0] + "; dense layers use g2g's own GEMM kernel");
                }
            }
            blasStatus = blas != null ? "cuBLAS" : "own GEMM kernel (cuBLAS " + why[0] + ")";
            if ("cusparse".equals(sparseEngine)) sparse = new SparseLib(this, stream);
        } catch (RuntimeException | LinkageError e) {
            try {
                close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static final Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A warning on stderr, once per JVM however many backends are opened. */
    private static void warnOnce(String message) {
        if (WARNED.add(message)) System.err.println("g2g: " + message);
    }

    /**
     * Runs the three dense-layer products we ask of cuBLAS (forward N,N; input gradient N,T;
     * weight gradient T,N) on a small odd-shaped layer with padded row strides, through cuBLAS
     * and through our gemm.cu kernels, and compares both with a double-precision host product.
     * Why: cuBLAS 13 is reached through a forwarding shim built for cuBLAS 12's ABI, which no
     * test here can prove. Returns null when cuBLAS agrees, else what went wrong.
     */
    private String cublasSelfCheck() {
        final int out = 13, in = 21, batch = 7;
        java.util.Random rng = new java.util.Random(20260);
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
        Blas saved = blas;
        try (LayerPlan p = plan(Mask.dense(out, in)); Tensor W = vector(out * in); Tensor B = vector(out);
             Tensor X = tensor(in, batch); Tensor Y = tensor(out, batch); Tensor DY = tensor(out, batch);
             Tensor DX = tensor(in, batch); Tensor GW = vector(out * in); Tensor GB = vector(out)) {
            pack(p, w, W);
            write(X, x);
            write(DY, dy);
            float[][][] got = new float[2][][];
            for (int pass = 0; pass < 2; pass++) {
                blas = pass == 0 ? saved : null;
                forward(p, W, B, X, Y, batch, false);
                backwardInput(p, W, DY, DX, batch);
                weightGrad(p, X, DY, GW, GB, batch);
                got[pass] = new float[][] {read(Y), read(DX), unpack(p, GW)};
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
            blas = saved;
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

    // ------------------------------------------------------------------ identity

    @Override public String name() { return "cuda:" + ordinal; }

    @Override
    public String description() {
        return gpu + ", dense layers: " + blasStatus + ", sparse engine: " + sparseEngine;
    }

    /** True when dense products go to cuBLAS (false: our gemm.cu kernels). */
    public boolean usesCublas() { return blas != null; }

    public String sparseEngine() { return sparseEngine; }

    // ------------------------------------------------------------------ memory

    private void bind() {
        if (CURRENT.get() != context) {
            cuCtxSetCurrent(context);
            CURRENT.set(context);
        }
    }

    private void open() {
        if (closed) throw new IllegalStateException(name() + " backend is closed");
        bind();
    }

    DeviceMemory alloc(long bytes, String what) {
        open();
        CUdeviceptr p = new CUdeviceptr();
        try {
            cuMemAlloc(p, bytes);
        } catch (CudaException e) {
            if (String.valueOf(e.getMessage()).contains("OUT_OF_MEMORY")) {
                throw new UserError(name() + ": out of GPU memory allocating " + mib(bytes) + " for " + what
                        + " (" + mib(liveBytes) + " already allocated by g2g)", e);
            }
            throw e;
        }
        DeviceMemory m = new DeviceMemory(this, p, bytes, what);
        live.add(m);
        liveBytes += bytes;
        return m;
    }

    void free(DeviceMemory m) {
        if (m.owner != this || !m.markFreed()) return;
        live.remove(m);
        liveBytes -= m.bytes;
        if (contextRetained) {
            bind();
            cuMemFree(m.ptr); // waits for queued work itself: cuMemFree synchronises the device
        }
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }

    @Override
    public Tensor tensor(int rows, int cols) {
        int ld = rows == 1 ? cols : Tensor.paddedLd(cols);
        long n = Math.max(1L, (long) rows * ld);
        DeviceMemory m = alloc(n * 4, "tensor " + rows + "x" + cols);
        cuMemsetD32Async(m.ptr(), 0, n, stream);
        return new CudaTensor(m, rows, cols, ld);
    }

    @Override
    public IntVector ints(int n) {
        long c = Math.max(1L, n);
        DeviceMemory m = alloc(c * 4, "int vector " + n);
        cuMemsetD32Async(m.ptr(), 0, c, stream);
        return new CudaIntVector(m, n);
    }

    static CudaTensor dev(Tensor t) {
        if (t instanceof CudaTensor c) return c;
        throw new IllegalArgumentException("not a CUDA tensor: " + (t == null ? "null" : t.getClass().getSimpleName()));
    }

    static CudaIntVector dev(IntVector v) {
        if (v instanceof CudaIntVector c) return c;
        throw new IllegalArgumentException("not a CUDA int vector: " + (v == null ? "null" : v.getClass().getSimpleName()));
    }

    private static final int CHUNK_FLOATS = 1 << 22; // 16 MiB staging for padded copies

    @Override
    public void write(Tensor t, float[] src) {
        CudaTensor d = dev(t);
        if (src.length != t.rows * t.cols) throw new IllegalArgumentException("write: size mismatch");
        open();
        cuStreamSynchronize(stream);
        if (src.length == 0) return;
        if (t.ld == t.cols) {
            cuMemcpyHtoD(d.ptr(), Pointer.to(src), (long) src.length * 4);
            return;
        }
        int rowsPer = Math.max(1, CHUNK_FLOATS / t.ld);
        float[] buf = new float[Math.min(rowsPer, t.rows) * t.ld];
        for (int r0 = 0; r0 < t.rows; r0 += rowsPer) {
            int n = Math.min(rowsPer, t.rows - r0);
            for (int r = 0; r < n; r++) System.arraycopy(src, (r0 + r) * t.cols, buf, r * t.ld, t.cols);
            cuMemcpyHtoD(d.ptr().withByteOffset((long) r0 * t.ld * 4), Pointer.to(buf), (long) n * t.ld * 4);
        }
    }

    @Override
    public float[] read(Tensor t) {
        CudaTensor d = dev(t);
        open();
        cuStreamSynchronize(stream);
        float[] out = new float[t.rows * t.cols];
        if (out.length == 0) return out;
        if (t.ld == t.cols) {
            cuMemcpyDtoH(Pointer.to(out), d.ptr(), (long) out.length * 4);
            return out;
        }
        int rowsPer = Math.max(1, CHUNK_FLOATS / t.ld);
        float[] buf = new float[Math.min(rowsPer, t.rows) * t.ld];
        for (int r0 = 0; r0 < t.rows; r0 += rowsPer) {
            int n = Math.min(rowsPer, t.rows - r0);
            cuMemcpyDtoH(Pointer.to(buf), d.ptr().withByteOffset((long) r0 * t.ld * 4), (long) n * t.ld * 4);
            for (int r = 0; r < n; r++) System.arraycopy(buf, r * t.ld, out, (r0 + r) * t.cols, t.cols);
        }
        return out;
    }

    @Override
    public void write(IntVector v, int[] src) {
        CudaIntVector d = dev(v);
        if (src.length < v.length) throw new IllegalArgumentException("write: " + src.length + " ints for a vector of " + v.length);
        open();
        cuStreamSynchronize(stream);
        if (v.length > 0) cuMemcpyHtoD(d.ptr(), Pointer.to(src), (long) v.length * 4);
    }

    @Override
    public int[] read(IntVector v) {
        CudaIntVector d = dev(v);
        open();
        cuStreamSynchronize(stream);
        int[] out = new int[v.length];
        if (out.length > 0) cuMemcpyDtoH(Pointer.to(out), d.ptr(), (long) out.length * 4);
        return out;
    }

    void upload(DeviceMemory m, byte[] b) {
        open();
        cuStreamSynchronize(stream);
        if (b.length > 0) cuMemcpyHtoD(m.ptr(), Pointer.to(b), b.length);
    }

    @Override
    public void zero(Tensor t) {
        CudaTensor d = dev(t);
        open();
        cuMemsetD32Async(d.ptr(), 0, d.capacity(), stream);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        CudaTensor s = dev(src), d = dev(dst);
        open();
        long n = Math.min(s.capacity(), d.capacity());
        if (n > 0) cuMemcpyDtoDAsync(d.ptr(), s.ptr(), n * 4, stream);
    }

    @Override
    public void sync() {
        open();
        cuStreamSynchronize(stream);
    }

    @Override
    public long deviceBytes() { return liveBytes; }

    /** Live allocations (for leak checks in tests). */
    public int liveAllocations() { return live.size(); }

    // ------------------------------------------------------------------ launches

    private void launch(String fn, int gx, int gy, int gz, int bx, int by, Object... args) {
        kernels.launch(fn, stream, gx, gy, gz, bx, by, 1, args);
    }

    /** Grid-stride kernels: enough blocks to fill the GPU, never more than the work. */
    private int strideGrid(long n) {
        long blocks = (n + EW_BLOCK - 1) / EW_BLOCK;
        return (int) Math.max(1, Math.min(blocks, (long) smCount * 16));
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

    /** Zeroes columns 0..batch of every row (not the columns past the batch). */
    private void zeroColumns(CudaTensor t, int rows, int batch) {
        cuMemsetD2D32Async(t.ptr(), (long) t.ld * 4, 0, batch, rows, stream);
    }

    private void biasAct(CudaTensor y, int rows, int batch, CudaTensor bias, boolean relu) {
        long n = (long) rows * batch;
        if (n == 0) return;
        launch("bias_act", strideGrid(n), 1, 1, EW_BLOCK, 1, rows, batch, y.ptr(), y.ld, bias, relu);
    }

    // ------------------------------------------------------------------ layers

    @Override
    public LayerPlan plan(Mask mask) {
        open();
        return new CudaPlan(this, PackedLayout.of(mask));
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
                if (blas != null) { // column-major view: Y^T (batch x out) = X^T (batch x in) W^T (in x out)
                    blas.sgemm(false, false, batch, l.out, l.in, X.ptr(), X.ld, W.ptr(), l.in, Y.ptr(), Y.ld);
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
                if (sparse != null && l.edges > 0) {
                    sparse.spmm(l.out, l.in, l.edges, plan.rowPtr, plan.col, edgeValues(l, W), X, batch, Y, 1f);
                    biasAct(Y, l.out, batch, B, relu);
                } else {
                    spmmRows(l.out, batch, plan.rowPtr, plan.col, null, edgeValues(l, W), X, B, Y, true, relu);
                }
            }
            case CSR -> {
                if (sparse != null && l.edges > 0) {
                    zeroColumns(Y, l.out, batch); // then beta = 1: never rely on beta = 0 ignoring NaN in C
                    sparse.spmm(l.out, l.in, l.edges, plan.rowPtr, plan.col, edgeValues(l, W), X, batch, Y, 1f);
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
                if (blas != null) { // dX^T (batch x in) = dY^T (batch x out) W (out x in)
                    blas.sgemm(false, true, batch, l.in, l.out, DY.ptr(), DY.ld, W.ptr(), l.in, DX.ptr(), DX.ld);
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
                    if (sparse != null) cusparseInputGrad(l, plan, W, DY, DX, batch);
                    else spmmRows(l.in, batch, plan.colPtr, plan.cscRow, plan.cscPerm, edgeValues(l, W), DY, null, DX, true, false);
                }
            }
            case CSR -> {
                if (sparse != null && l.edges > 0) {
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
        sparse.spmm(l.in, l.out, l.edges, plan.colPtr, plan.cscRow, scratchEdgesT.ptr(), DY, batch, DX, 1f);
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
                if (blas != null && batch > 0) { // gW^T (in x out) = X (in x batch as col-major^T) dY^T
                    blas.sgemm(true, false, l.in, l.out, batch, X.ptr(), X.ld, DY.ptr(), DY.ld, GW.ptr(), l.in);
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

    private DeviceMemory ensure(DeviceMemory m, long bytes, String what) {
        if (m != null && m.bytes >= bytes && !m.isFreed()) return m;
        if (m != null) m.close();
        return alloc(Math.max(bytes, 4), what);
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
        float bc1 = (float) (1 - Math.pow(beta1, t));
        float bc2 = (float) (1 - Math.pow(beta2, t));
        float step = lr / bc1;
        float invSqrtBc2 = (float) (1.0 / Math.sqrt(bc2));
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

    // ------------------------------------------------------------------ DST helpers (CUDA only)

    /**
     * Selects k edges of the plan's layer on the device: among inactive edges (amongActive false;
     * regrowth, largest true) or active ones (pruning, largest false). scores is a dense
     * row-major out x in vector (e.g. from {@link #correlation} or {@link #denseWeights}); out
     * receives k positions o * in + i, unordered; ties at the threshold are broken arbitrarily.
     */
    public void selectEdges(LayerPlan p, Tensor scores, boolean amongActive, boolean largest, int k, IntVector out) {
        CudaPlan plan = cplan(p);
        Mask m = plan.mask();
        long n = (long) m.out * m.in;
        long candidates = amongActive ? plan.activeEdges() : n - plan.activeEdges();
        if (k < 0 || k > candidates) throw new IllegalArgumentException("selectEdges: k = " + k + " of " + candidates + " candidates");
        if (out.length < k || scores.size() < n) throw new IllegalArgumentException("selectEdges: output or scores too short");
        CudaTensor S = dev(scores);
        CudaIntVector O = dev(out);
        open();
        if (k == 0) return;
        DeviceMemory mask = plan.denseMask();
        selectState = ensure(selectState, (8 + 256) * 4L, "selection state");
        CUdeviceptr state = selectState.ptr(), hist = selectState.ptr().withByteOffset(8 * 4);
        int grid = strideGrid(n);
        launch("select_init", 1, 1, 1, 256, 1, state, hist, k);
        for (int shift = 24; shift >= 0; shift -= 8) {
            launch("select_hist", grid, 1, 1, EW_BLOCK, 1, n, S.ptr(), mask, amongActive, largest, state, hist, shift);
            launch("select_pick", 1, 1, 1, 1, 1, state, hist, shift);
        }
        launch("select_collect", grid, 1, 1, EW_BLOCK, 1, n, S.ptr(), mask, amongActive, largest, state, O.ptr());
    }

    /** Host convenience: the k highest-scoring inactive edges (regrowth), sorted ascending. */
    public int[] topKInactive(LayerPlan p, Tensor scores, int k) { return selectToHost(p, scores, false, true, k); }

    /** Host convenience: the k lowest-scoring active edges (pruning), sorted ascending. */
    public int[] bottomKActive(LayerPlan p, Tensor scores, int k) { return selectToHost(p, scores, true, false, k); }

    private int[] selectToHost(LayerPlan p, Tensor scores, boolean amongActive, boolean largest, int k) {
        try (IntVector out = ints(Math.max(k, 1))) {
            selectEdges(p, scores, amongActive, largest, k, out);
            int[] r = Arrays.copyOf(read(out), k);
            Arrays.sort(r);
            return r;
        }
    }

    /**
     * The packed weights as a dense row-major out x in vector on the device (|w| when absval:
     * magnitude-pruning scores), zeros off the mask.
     */
    public void denseWeights(LayerPlan p, Tensor packed, Tensor dense, boolean absval) {
        CudaPlan plan = cplan(p);
        PackedLayout l = plan.layout;
        CudaTensor W = dev(packed), D = dev(dense);
        long n = (long) l.out * l.in;
        if (dense.size() < n || (dense.rows > 1 && dense.ld != dense.cols)) throw new IllegalArgumentException("denseWeights: dense too small");
        checkPacked(plan, packed);
        open();
        if (l.kind == PackedLayout.Kind.DENSE) {
            cuMemcpyDtoDAsync(D.ptr(), W.ptr(), n * 4, stream);
            if (absval) launch("abs_inplace", strideGrid(n), 1, 1, EW_BLOCK, 1, n, D.ptr());
            return;
        }
        cuMemsetD32Async(D.ptr(), 0, n, stream);
        if (l.kind == PackedLayout.Kind.GROUPED) {
            launch("scatter_blocks", strideGrid(l.blockTotal), 1, 1, EW_BLOCK, 1, l.groups, l.outPer, l.inPer,
                    plan.outList, plan.inList, W.ptr(), D.ptr(), l.in, absval);
        }
        if (l.edges > 0) {
            launch("scatter_edges", strideGrid(l.edges), 1, 1, EW_BLOCK, 1, l.edges, plan.edgeRow, plan.col,
                    edgeValues(l, W), D.ptr(), l.in, absval);
        }
    }

    /** Milliseconds of device time {@code work} queues on the stream (CUDA events). */
    public float timeMs(Runnable work) {
        open();
        cuEventRecord(startEvent, stream);
        work.run();
        cuEventRecord(stopEvent, stream);
        cuEventSynchronize(stopEvent);
        float[] ms = new float[1];
        cuEventElapsedTime(ms, startEvent, stopEvent);
        return ms[0];
    }

    /** Raw device pointer of a tensor, for benchmarks that call cuBLAS on the same buffers. */
    CUdeviceptr pointer(Tensor t) { return dev(t).ptr(); }

    Blas blas() { return blas; }

    // ------------------------------------------------------------------ close

    @Override
    public void close() {
        if (closed) return;
        List<Throwable> errors = new ArrayList<>();
        try {
            if (contextRetained) {
                bind();
                if (streamCreated) cuStreamSynchronize(stream);
            }
        } catch (RuntimeException e) {
            errors.add(e);
        }
        closeQuietly(sparse, errors);
        closeQuietly(blas, errors);
        for (DeviceMemory m : new ArrayList<>(live)) {
            try {
                free(m);
            } catch (RuntimeException e) {
                errors.add(e);
            }
        }
        live.clear();
        liveBytes = 0;
        closed = true;
        try {
            if (eventsCreated) {
                cuEventDestroy(startEvent);
                cuEventDestroy(stopEvent);
            }
            if (streamCreated) cuStreamDestroy(stream);
            if (kernels != null) kernels.unload();
        } catch (RuntimeException e) {
            errors.add(e);
        }
        if (contextRetained) {
            try {
                cuDevicePrimaryCtxRelease(device);
            } catch (RuntimeException e) {
                errors.add(e);
            }
            contextRetained = false;
            CURRENT.remove();
        }
        if (!errors.isEmpty()) {
            RuntimeException e = new IllegalStateException(name() + ": errors while closing the CUDA backend", errors.get(0));
            for (int i = 1; i < errors.size(); i++) e.addSuppressed(errors.get(i));
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable c, List<Throwable> errors) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception e) {
            errors.add(e);
        }
    }
}
