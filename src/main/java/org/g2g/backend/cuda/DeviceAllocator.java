package org.g2g.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocAsync;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeAsync;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD2D32Async;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.g2g.UserError;
import org.g2g.backend.Tensor;

/**
 * Device memory of one {@link CudaContext}: every cuMemAlloc is a tracked {@link DeviceMemory}
 * (so closing the context frees whatever is still live and nothing leaks across runs in one
 * JVM), out-of-memory as a one-line {@link UserError}, scratch buffers grown on demand, and the
 * host-device copies (padded rows staged in bounded chunks). Copies to the host wait for the
 * stream; copies to the device wait too, since a queued kernel may still read the old contents,
 * and are then ordered before the stream's later work ({@link CudaContext#afterHostCopy}: the
 * stream is non-blocking, so the legacy stream's copy does not order itself).
 *
 * <p>Blocks come from the stream-ordered allocator (cuMemAllocAsync / cuMemFreeAsync on the
 * run's stream): a free is queued behind the work that still uses the block and returns at once.
 * Why: cuMemFree synchronises the whole device, so a DST re-pack (which frees the old packed
 * layers) in one of K runs sharing a GPU ({@code sweep --parallel K}) stalled all K. The host
 * copies above wait for the stream first, so memory the pool hands out again (freed earlier in
 * this stream's order) is never written while earlier work may still read it. A device or
 * driver without memory pools (cuMemAllocAsync: not supported) gets cuMemAlloc / cuMemFree as
 * before; closing the context frees synchronously (the stream has been synchronised then).
 */
final class DeviceAllocator {
    private static final int CHUNK_FLOATS = 1 << 22; // 16 MiB staging for padded copies

    private final CudaContext ctx;
    private final Set<DeviceMemory> live = new LinkedHashSet<>();
    private volatile long liveBytes; // read by sibling runs' share computation (DeviceShares)
    private long generation;
    private boolean streamOrdered = true; // until the device refuses cuMemAllocAsync
    private boolean closing;

    DeviceAllocator(CudaContext ctx) { this.ctx = ctx; }

    DeviceMemory alloc(long bytes, String what) {
        ctx.open();
        CUdeviceptr p = new CUdeviceptr();
        boolean ordered = streamOrdered;
        try {
            if (ordered) {
                try {
                    cuMemAllocAsync(p, bytes, ctx.stream);
                } catch (CudaException e) {
                    if (!String.valueOf(e.getMessage()).contains("NOT_SUPPORTED")) throw e;
                    streamOrdered = ordered = false; // no memory pools here: the synchronous allocator from now on
                    cuMemAlloc(p, bytes);
                }
            } else {
                cuMemAlloc(p, bytes);
            }
        } catch (CudaException e) {
            if (String.valueOf(e.getMessage()).contains("OUT_OF_MEMORY")) {
                throw new UserError("cuda:" + ctx.ordinal + ": out of device memory allocating " + mib(bytes) + " for " + what
                        + " (" + mib(liveBytes) + " already allocated by g2g)", e);
            }
            throw e;
        }
        DeviceMemory m = new DeviceMemory(this, p, bytes, what, ordered);
        generation++;
        live.add(m);
        liveBytes += bytes;
        return m;
    }

    void free(DeviceMemory m) {
        if (m.owner != this || !m.markFreed()) return;
        live.remove(m);
        generation++;
        liveBytes -= m.bytes;
        if (!ctx.isClosed()) {
            ctx.bind();
            if (m.streamOrdered && !closing) cuMemFreeAsync(m.ptr, ctx.stream); // after the stream's queued work; no wait
            else cuMemFree(m.ptr); // waits for queued work itself: cuMemFree synchronises the device
        }
    }

    /** Frees every live allocation (the context is closing). */
    void freeAll() {
        closing = true;
        RuntimeException first = null;
        for (DeviceMemory m : new ArrayList<>(live)) {
            try {
                free(m);
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        live.clear();
        liveBytes = 0;
        if (first != null) throw first;
    }

    /** m when it holds {@code bytes}, else a new buffer (m freed): scratch that only grows. */
    DeviceMemory ensure(DeviceMemory m, long bytes, String what) {
        if (m != null && m.bytes >= bytes && !m.isFreed()) return m;
        if (m != null) m.close();
        return alloc(Math.max(bytes, 4), what);
    }

    long liveBytes() { return liveBytes; }

    /** Whether blocks come from the stream-ordered allocator (false once the device refused it). */
    boolean streamOrdered() { return streamOrdered; }

    /** Changes with every allocation and free: a CUDA graph captured at another generation may hold freed addresses. */
    long generation() { return generation; }

    /** Bytes the driver reports free on the device now. */
    long freeBytes() {
        ctx.open();
        long[] free = new long[1], total = new long[1];
        cuMemGetInfo(free, total);
        return free[0];
    }

    /** Bytes this context's run may still allocate: its share of the device ({@link DeviceShares}), what a run is sized against. */
    long shareBytes() {
        return DeviceShares.share(ctx.ordinal, this, freeBytes());
    }

    int liveCount() { return live.size(); }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }

    // ------------------------------------------------------------------ tensors and copies

    CudaTensor tensor(int rows, int cols) {
        int ld = rows == 1 ? cols : Tensor.paddedLd(cols);
        long n = Math.max(1L, (long) rows * ld);
        DeviceMemory m = alloc(n * 4, "tensor " + rows + "x" + cols);
        cuMemsetD32Async(m.ptr(), 0, n, ctx.stream);
        return new CudaTensor(m, rows, cols, ld);
    }

    CudaIntVector ints(int n) {
        long c = Math.max(1L, n);
        DeviceMemory m = alloc(c * 4, "int vector " + n);
        cuMemsetD32Async(m.ptr(), 0, c, ctx.stream);
        return new CudaIntVector(m, n);
    }

    void write(CudaTensor t, float[] src) {
        if (src.length != t.rows * t.cols) throw new IllegalArgumentException("write: size mismatch");
        ctx.open();
        cuStreamSynchronize(ctx.stream);
        if (src.length == 0) return;
        if (t.ld == t.cols) {
            cuMemcpyHtoD(t.ptr(), Pointer.to(src), (long) src.length * 4);
            ctx.afterHostCopy();
            return;
        }
        int rowsPer = Math.max(1, CHUNK_FLOATS / t.ld);
        float[] buf = new float[Math.min(rowsPer, t.rows) * t.ld];
        for (int r0 = 0; r0 < t.rows; r0 += rowsPer) {
            int n = Math.min(rowsPer, t.rows - r0);
            for (int r = 0; r < n; r++) System.arraycopy(src, (r0 + r) * t.cols, buf, r * t.ld, t.cols);
            cuMemcpyHtoD(t.ptr().withByteOffset((long) r0 * t.ld * 4), Pointer.to(buf), (long) n * t.ld * 4);
        }
        ctx.afterHostCopy();
    }

    float[] read(CudaTensor t) {
        ctx.open();
        cuStreamSynchronize(ctx.stream);
        float[] out = new float[t.rows * t.cols];
        if (out.length == 0) return out;
        if (t.ld == t.cols) {
            cuMemcpyDtoH(Pointer.to(out), t.ptr(), (long) out.length * 4);
            return out;
        }
        int rowsPer = Math.max(1, CHUNK_FLOATS / t.ld);
        float[] buf = new float[Math.min(rowsPer, t.rows) * t.ld];
        for (int r0 = 0; r0 < t.rows; r0 += rowsPer) {
            int n = Math.min(rowsPer, t.rows - r0);
            cuMemcpyDtoH(Pointer.to(buf), t.ptr().withByteOffset((long) r0 * t.ld * 4), (long) n * t.ld * 4);
            for (int r = 0; r < n; r++) System.arraycopy(buf, r * t.ld, out, (r0 + r) * t.cols, t.cols);
        }
        return out;
    }

    void write(CudaIntVector v, int[] src) {
        if (src.length < v.length) throw new IllegalArgumentException("write: " + src.length + " ints for a vector of " + v.length);
        ctx.open();
        cuStreamSynchronize(ctx.stream);
        if (v.length > 0) cuMemcpyHtoD(v.ptr(), Pointer.to(src), (long) v.length * 4);
        ctx.afterHostCopy();
    }

    int[] read(CudaIntVector v) {
        ctx.open();
        cuStreamSynchronize(ctx.stream);
        int[] out = new int[v.length];
        if (out.length > 0) cuMemcpyDtoH(Pointer.to(out), v.ptr(), (long) out.length * 4);
        return out;
    }

    void upload(DeviceMemory m, byte[] b) {
        upload(m, Pointer.to(b), b.length);
    }

    /** Copies {@code bytes} from host memory at {@code src} to the start of m, in stream order. */
    void upload(DeviceMemory m, Pointer src, long bytes) {
        ctx.open();
        cuStreamSynchronize(ctx.stream);
        if (bytes > 0) cuMemcpyHtoD(m.ptr(), src, bytes);
        ctx.afterHostCopy();
    }

    void zero(CudaTensor t) {
        ctx.open();
        cuMemsetD32Async(t.ptr(), 0, t.capacity(), ctx.stream);
    }

    /** Zeroes columns 0..batch of every row (not the columns past the batch). */
    void zeroColumns(CudaTensor t, int rows, int batch) {
        cuMemsetD2D32Async(t.ptr(), (long) t.ld * 4, 0, batch, rows, ctx.stream);
    }

    void copy(CudaTensor s, CudaTensor d) {
        ctx.open();
        long n = Math.min(s.capacity(), d.capacity());
        if (n > 0) cuMemcpyDtoDAsync(d.ptr(), s.ptr(), n * 4, ctx.stream);
    }
}
