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
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * What a CUDA backend runs on: one GPU's primary context, one stream, the kernel module, the
 * library handles (cuBLAS when it loads and passes its self-check, cuSPARSE for that engine) and
 * the device memory ({@link DeviceAllocator}). Every kernel launch goes through {@link #launch},
 * which can also time each launch with CUDA events for `g2g profile`. Closing it frees all
 * device memory, then the handles, the stream and the context, whatever failed on the way.
 *
 * <p>Several contexts may share one GPU in one process (`g2g sweep --parallel K`, `g2g profile
 * --concurrent K`): each has its own stream, graphs, handles and memory on the GPU's shared
 * primary context. The stream is non-blocking, so no run's work waits for the legacy default
 * stream, where the synchronous copies of every run go: with blocking streams each host read of
 * one run would be a barrier for all K (the legacy stream waits for every blocking stream). The
 * price is that a synchronous host-to-device copy is no longer ordered before this stream's later
 * work by itself (it may return before its DMA lands): {@link #afterHostCopy} orders it.
 */
final class CudaContext implements AutoCloseable {
    private static final ThreadLocal<CUcontext> CURRENT = new ThreadLocal<>();
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    final int ordinal;
    final GpuInfo gpu;
    final CUstream stream = new CUstream();
    final DeviceAllocator memory;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUevent startEvent = new CUevent(), stopEvent = new CUevent();
    /** Recorded on the legacy stream after a synchronous upload; this stream waits for it. */
    private final CUevent hostCopied = new CUevent();
    /** The legacy default stream (handle 0), where synchronous copies run. */
    private static final CUstream LEGACY = new CUstream();
    private boolean contextRetained, streamCreated, eventsCreated, closed;
    private int smCount = 1;
    private Kernels kernels;
    private Blas blas;
    private String blasStatus = "not opened";
    private SparseLib sparse;
    private LaunchTimer timer;
    private boolean timerOn, capturing;
    private long launches;
    private StepGraphs graphs;

    CudaContext(int ordinal, GpuInfo gpu, byte[] fatbin, boolean cusparse) {
        this.ordinal = ordinal;
        this.gpu = gpu;
        this.memory = new DeviceAllocator(this);
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            cuDeviceGet(device, ordinal);
            cuDevicePrimaryCtxRetain(context, device);
            contextRetained = true;
            DeviceShares.opened(ordinal, memory);
            bind();
            int[] v = new int[1];
            cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
            smCount = Math.max(1, v[0]);
            kernels = new Kernels(fatbin);
            cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
            streamCreated = true;
            cuEventCreate(startEvent, CUevent_flags.CU_EVENT_DEFAULT);
            cuEventCreate(stopEvent, CUevent_flags.CU_EVENT_DEFAULT);
            cuEventCreate(hostCopied, CUevent_flags.CU_EVENT_DISABLE_TIMING);
            eventsCreated = true;
            String[] why = new String[1];
            blas = Blas.create(stream, why);
            blasStatus = blas != null ? "cuBLAS" : "own GEMM kernel (cuBLAS " + why[0] + ")";
            if (cusparse) sparse = new SparseLib(memory, stream);
        } catch (RuntimeException | LinkageError e) {
            try {
                close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** A warning on stderr, once per JVM however many backends are opened. */
    static void warnOnce(String message) {
        if (WARNED.add(message)) System.err.println("g2g: " + message);
    }

    /** Makes this context current on the calling thread (cheap when it already is). */
    void bind() {
        if (CURRENT.get() != context) {
            cuCtxSetCurrent(context);
            CURRENT.set(context);
        }
    }

    /** Before any device call: the context is open and current on this thread. */
    void open() {
        if (closed) throw new IllegalStateException("cuda:" + ordinal + " backend is closed");
        bind();
    }

    int smCount() { return smCount; }

    /** The cuBLAS handle, or null when dense products use our gemm.cu kernels. */
    Blas blas() { return blas; }

    String blasStatus() { return blasStatus; }

    /** Closes the cuBLAS handle for good (it failed its self-check) and says why, once. */
    void dropBlas(String why) {
        if (blas == null) return;
        blas.close();
        blas = null;
        blasStatus = "own GEMM kernel (cuBLAS " + why + ")";
        warnOnce("cuBLAS " + why + "; dense layers use g2g's own GEMM kernel");
    }

    /** Replaces the cuBLAS handle for the duration of a self-check (null: our kernels). */
    Blas swapBlas(Blas b) {
        Blas old = blas;
        blas = b;
        return old;
    }

    SparseLib sparse() { return sparse; }

    /** Queues kernel {@code fn} on the stream; arguments are checked against its C signature. */
    void launch(String fn, int gx, int gy, int gz, int bx, int by, Object... args) {
        launches++;
        if (!timerOn) {
            kernels.launch(fn, stream, gx, gy, gz, bx, by, 1, args);
        } else {
            timer.before(fn);
            try {
                kernels.launch(fn, stream, gx, gy, gz, bx, by, 1, args);
            } finally {
                timer.after();
            }
        }
    }

    /** Times a library call (cuBLAS, cuSPARSE) like a kernel when per-launch timing is on. */
    void library(String name, Runnable call) {
        launches++;
        if (!timerOn) {
            call.run();
        } else {
            timer.before(name);
            try {
                call.run();
            } finally {
                timer.after();
            }
        }
    }

    /** The CUDA graphs of training steps on this context's stream (made on first use). */
    StepGraphs graphs() {
        open();
        if (graphs == null) graphs = new StepGraphs(this);
        return graphs;
    }

    /** Launches a CUDA graph (one launch from the host, whatever it holds). */
    void launchGraph(Runnable call) {
        launches++;
        call.run();
    }

    /** Launches from the host so far: kernels, library calls, graphs (a graph counts once). */
    long launches() { return launches; }

    /** Whether each launch is being timed with events (a capture must not be made then). */
    boolean timing() { return timerOn; }

    /** Set while a step is being captured into a graph: nothing may wait for the device. */
    void capturing(boolean on) { capturing = on; }

    boolean isCapturing() { return capturing; }

    /**
     * Orders the synchronous host-to-device copies made so far before this stream's later work: a
     * synchronous copy from pageable memory may return before its DMA completes, and it ran on
     * the legacy stream, which a non-blocking stream does not wait for. No host wait.
     */
    void afterHostCopy() {
        cuEventRecord(hostCopied, LEGACY);
        cuStreamWaitEvent(stream, hostCopied, 0);
    }

    void sync() {
        open();
        if (capturing) throw new IllegalStateException("sync while a training step is being captured into a CUDA graph");
        cuStreamSynchronize(stream);
    }

    /** Milliseconds of device time {@code work} queues on the stream (CUDA events). */
    float timeMs(Runnable work) {
        open();
        cuEventRecord(startEvent, stream);
        work.run();
        cuEventRecord(stopEvent, stream);
        cuEventSynchronize(stopEvent);
        float[] ms = new float[1];
        cuEventElapsedTime(ms, startEvent, stopEvent);
        return ms[0];
    }

    /** Starts (or restarts) timing every launch with a pair of CUDA events. */
    void resetLaunchTimes() {
        open();
        if (timer == null) timer = new LaunchTimer(stream);
        else timer.reset();
        timerOn = true;
    }

    /** Device milliseconds per kernel name since the last reset; reading stops the timing. Empty when never timed. */
    Map<String, Double> launchMillis() {
        if (timer == null) return Map.of();
        open();
        timerOn = false;
        return timer.millis();
    }

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
        closeQuietly(graphs, errors);
        closeQuietly(sparse, errors);
        closeQuietly(blas, errors);
        closeQuietly(timer, errors);
        try {
            if (contextRetained) memory.freeAll();
        } catch (RuntimeException e) {
            errors.add(e);
        } finally {
            DeviceShares.closed(ordinal, memory);
        }
        closed = true;
        try {
            if (eventsCreated) {
                cuEventDestroy(startEvent);
                cuEventDestroy(stopEvent);
                cuEventDestroy(hostCopied);
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
            RuntimeException e = new IllegalStateException("cuda:" + ordinal + ": errors while closing the CUDA backend", errors.get(0));
            for (int i = 1; i < errors.size(); i++) e.addSuppressed(errors.get(i));
            throw e;
        }
    }

    boolean isClosed() { return closed; }

    private static void closeQuietly(AutoCloseable c, List<Throwable> errors) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception e) {
            errors.add(e);
        }
    }

    /**
     * Per-launch device times: an event before and after each launch, read back (one sync) only
     * when asked. Events are pooled and reused after every read, so a long profile does not
     * create events per step.
     */
    private static final class LaunchTimer implements AutoCloseable {
        private final CUstream stream;
        private final List<CUevent> pool = new ArrayList<>();
        private final List<String> names = new ArrayList<>();
        private final Map<String, Double> totals = new LinkedHashMap<>();
        private int used;

        LaunchTimer(CUstream stream) { this.stream = stream; }

        private CUevent next() {
            if (used == pool.size()) {
                CUevent e = new CUevent();
                cuEventCreate(e, CUevent_flags.CU_EVENT_DEFAULT);
                pool.add(e);
            }
            return pool.get(used++);
        }

        void before(String name) {
            if (used >= 4096) drain(); // bounded pool: fold what is queued into the totals
            names.add(name);
            cuEventRecord(next(), stream);
        }

        void after() { cuEventRecord(next(), stream); }

        private void drain() {
            if (used == 0) return;
            cuEventSynchronize(pool.get(used - 1));
            float[] ms = new float[1];
            for (int k = 0; k < names.size(); k++) {
                cuEventElapsedTime(ms, pool.get(2 * k), pool.get(2 * k + 1));
                totals.merge(names.get(k), (double) ms[0], Double::sum);
            }
            names.clear();
            used = 0;
        }

        Map<String, Double> millis() {
            drain();
            return new LinkedHashMap<>(totals);
        }

        void reset() {
            drain();
            totals.clear();
        }

        @Override
        public void close() {
            for (CUevent e : pool) cuEventDestroy(e);
            pool.clear();
        }
    }
}
