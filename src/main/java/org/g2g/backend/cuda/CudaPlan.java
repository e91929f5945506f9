package org.g2g.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import org.g2g.backend.LayerPlan;
import org.g2g.model.Mask;

/**
 * A {@link CudaLayout} with its index arrays uploaded to the device (what CUDA adds to the shared
 * grouped layout). Closing it (or closing the backend) frees them; build a new plan after every
 * DST update.
 */
public final class CudaPlan implements LayerPlan {
    final CudaLayout layout;
    final CudaIntVector outList, inList, rowPtr, col, edgeRow, colPtr, cscRow, cscPerm;
    final DeviceMemory blockMask;
    private final DeviceAllocator memory;
    private final List<AutoCloseable> owned = new ArrayList<>();

    CudaPlan(DeviceAllocator memory, CudaLayout l) {
        this.memory = memory;
        this.layout = l;
        try {
            boolean edges = l.kind != CudaLayout.Kind.DENSE;
            boolean grouped = l.kind == CudaLayout.Kind.GROUPED;
            outList = grouped ? upload(l.outList) : null;
            inList = grouped ? upload(l.inList) : null;
            blockMask = grouped && l.blockMask != null ? uploadBytes(l.blockMask, "block mask") : null;
            rowPtr = edges ? upload(l.rowPtr) : null;
            col = edges ? upload(l.col) : null;
            edgeRow = edges ? upload(l.edgeRow) : null;
            colPtr = edges ? upload(l.colPtr) : null;
            cscRow = edges ? upload(l.cscRow) : null;
            cscPerm = edges ? upload(l.cscPerm) : null;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private CudaIntVector upload(int[] a) {
        CudaIntVector v = memory.ints(a.length);
        owned.add(v);
        memory.write(v, a);
        return v;
    }

    private DeviceMemory uploadBytes(byte[] b, String what) {
        DeviceMemory m = memory.alloc(Math.max(1, b.length), what);
        owned.add(m);
        memory.upload(m, b);
        return m;
    }

    public CudaLayout layout() { return layout; }

    @Override public Mask mask() { return layout.mask; }
    @Override public int packedSize() { return layout.packedSize(); }
    @Override public long activeEdges() { return layout.activeEdges; }
    @Override public long macsPerSample() { return layout.macsPerSample(); }

    @Override
    public void close() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception ignored) {
                // DeviceMemory.close does not throw checked exceptions
            }
        }
        owned.clear();
    }

    @Override
    public String toString() { return layout.toString(); }
}
