package org.g2g.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static org.g2g.backend.cuda.Geometry.ceil;

import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import org.g2g.backend.StepScalars;
import org.g2g.backend.Tensor;

/**
 * The CUDA side of {@link StepScalars} and the multi-tensor optimizer (cuda-kernels/step.cu):
 * the step's scalars in device memory, written by value on the stream (cuMemsetD32Async: no
 * host buffer that a later step could overwrite before the device reads it, nothing waits), and
 * the parameter table of adam_multi / sgd_multi, uploaded again only when a parameter moved.
 */
final class StepKernels implements AutoCloseable {
    private static final int BLOCK = 256;

    private final CudaContext ctx;
    private DeviceMemory scalars;
    private StepScalars current;
    private CUdeviceptr[] slots;
    private int[] written;
    // the parameter table: the tensors it was built from (compared by identity), the device copies
    private List<Tensor> tableOf = List.of();
    private DeviceMemory ptrs, sizes;
    private long maxSize;

    StepKernels(CudaContext ctx) { this.ctx = ctx; }

    /** Writes s into the device's step scalars on the stream (a fill by value per word that changed). */
    void begin(StepScalars s) {
        ctx.open();
        if (scalars == null || scalars.isFreed()) {
            scalars = ctx.memory.alloc(StepScalars.SIZE * 4L, "step scalars");
            slots = new CUdeviceptr[StepScalars.SIZE];
            for (int k = 0; k < slots.length; k++) slots[k] = scalars.ptr().withByteOffset(4L * k);
            written = null;
        }
        int[] words = s.words();
        for (int k = 0; k < words.length; k++) {
            // the device keeps what was written last (stream order), so an unchanged word needs no fill
            if (written == null || written[k] != words[k]) cuMemsetD32Async(slots[k], words[k], 1, ctx.stream);
        }
        written = words;
        current = s;
    }

    /** The device step scalars, after checking s is the one {@link #begin} wrote. */
    private DeviceMemory scalars(StepScalars s) {
        if (current == null || !current.equals(s)) {
            throw new IllegalStateException("step scalars " + s + " were not given to beginStep (the device holds " + current + ")");
        }
        return scalars;
    }

    void gather(CudaTensor images, CudaIntVector labels, CudaIntVector order, StepScalars s, int batch, CudaTensor x,
                CudaIntVector yb) {
        int f = images.cols;
        if (x.rows != f || batch > x.cols || s.offset() + batch > order.length || yb.length < batch) {
            throw new IllegalArgumentException("gather: bad shapes");
        }
        DeviceMemory sc = scalars(s);
        if (batch == 0) return;
        ctx.launch("gather_step", ceil(f, 32), ceil(batch, 32), 1, 32, 8, f, batch, images.ptr(), images.ld, order.ptr(),
                sc.ptr(), x.ptr(), x.ld, labels.ptr(), yb.ptr());
    }

    void adam(List<Tensor> w, List<Tensor> g, List<Tensor> m, List<Tensor> v, float beta1, float beta2, float eps,
              float weightDecay, StepScalars s) {
        int n = table(w, g, m, v);
        DeviceMemory sc = scalars(s);
        if (n == 0) return;
        ctx.launch("adam_multi", grid(), n, 1, BLOCK, 1, ptrs, sizes, sc, beta1, 1 - beta1, beta2, 1 - beta2, eps,
                weightDecay);
    }

    void sgd(List<Tensor> w, List<Tensor> g, List<Tensor> buf, float momentum, boolean nesterov, float weightDecay,
             StepScalars s) {
        int n = table(w, g, buf, null);
        DeviceMemory sc = scalars(s);
        if (n == 0) return;
        ctx.launch("sgd_multi", grid(), n, 1, BLOCK, 1, ptrs, sizes, sc, momentum, nesterov, weightDecay);
    }

    /** Blocks per tensor: enough for the largest one to fill the GPU, never more than its work. */
    private int grid() { return Geometry.strideGrid(maxSize, BLOCK, ctx.smCount(), 8); }

    /** Makes the device table describe these tensors (w, g, state 1, state 2 or null each); returns how many. */
    private int table(List<Tensor> w, List<Tensor> g, List<Tensor> s1, List<Tensor> s2) {
        int n = w.size();
        if (g.size() != n || s1.size() != n || (s2 != null && s2.size() != n)) {
            throw new IllegalArgumentException("optimizer: " + n + " parameters but " + g.size() + " gradients and "
                    + s1.size() + (s2 == null ? "" : "/" + s2.size()) + " state tensors");
        }
        List<Tensor> key = new ArrayList<>(4 * n);
        long[] count = new long[n];
        long max = 0;
        for (int j = 0; j < n; j++) {
            Tensor p = w.get(j);
            long size = p.size();
            Tensor[] all = {p, g.get(j), s1.get(j), s2 == null ? null : s2.get(j)};
            for (Tensor t : all) {
                if (t != null && t.size() < size) throw new IllegalArgumentException("optimizer: shape mismatch in parameter " + j);
                if (t != null) CudaBackend.dev(t).ptr(); // fails on a closed tensor
                key.add(t);
            }
            count[j] = size;
            max = Math.max(max, size);
        }
        if (n == 0) return 0;
        if (sameTensors(key)) return n;
        ctx.open();
        CUdeviceptr[] p = new CUdeviceptr[4 * n];
        for (int k = 0; k < p.length; k++) p[k] = key.get(k) == null ? new CUdeviceptr() : CudaBackend.dev(key.get(k)).ptr();
        if (ptrs == null || ptrs.bytes < (long) p.length * Sizeof.POINTER) {
            if (ptrs != null) ptrs.close();
            if (sizes != null) sizes.close();
            ptrs = ctx.memory.alloc((long) p.length * Sizeof.POINTER, "optimizer parameter table");
            sizes = ctx.memory.alloc((long) n * 8, "optimizer parameter sizes");
        }
        ctx.memory.upload(ptrs, Pointer.to(p), (long) p.length * Sizeof.POINTER);
        ctx.memory.upload(sizes, Pointer.to(count), (long) n * 8);
        tableOf = key;
        maxSize = max;
        return n;
    }

    private boolean sameTensors(List<Tensor> key) {
        if (key.size() != tableOf.size()) return false;
        for (int k = 0; k < key.size(); k++) if (key.get(k) != tableOf.get(k)) return false;
        return true;
    }

    @Override
    public void close() {
        // the allocator frees everything when the context closes; closing early only returns memory sooner
        for (DeviceMemory m : new DeviceMemory[]{scalars, ptrs, sizes}) if (m != null) m.close();
        scalars = ptrs = sizes = null;
        written = null;
        tableOf = List.of();
        current = null;
    }
}
