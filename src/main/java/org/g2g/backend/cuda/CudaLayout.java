package org.g2g.backend.cuda;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.g2g.backend.layout.GroupedLayout;
import org.g2g.backend.layout.GroupedLayout.Block;
import org.g2g.model.Mask;

/**
 * What the CUDA backend adds to the shared {@link GroupedLayout}: which launches a layer takes,
 * the index arrays those kernels read, and the order its residual edges have on the device.
 * The kernels address activation rows by unit and stream a row's edges in ascending column unit,
 * so on the device the residual edges are the grouped layout's edges in CSR order by unit
 * ({@link #edgeOrder}: device edge k is the grouped layout's edge edgeOrder[k]); everything else
 * (group order, dense blocks vs residual edges, the blocks' packing, CSR and CSC) is the grouped
 * layout's, and pack/unpack are its walk plus that permutation at upload. Three kinds:
 * <ul>
 *   <li>DENSE: one hole-free block in unit order covering the layer; packed = W row-major,
 *       products go to cuBLAS (or layer.cu for small layers).</li>
 *   <li>GROUPED: blocks of one shape, no two in the same row or column group (G2G's diagonal
 *       group blocks): block g's rows and columns are the units at outList[g*outPer ..] and
 *       inList[g*inPer ..]; holes stay 0 in the weight gradient through {@link #blockMask}; then
 *       the residual (inter-group) edges.</li>
 *   <li>CSR: no blocks a batched launch can take (Erdős–Rényi, unequal groups, sparse blocks): the
 *       grouped layout is built without dense blocks, so every active edge is a residual edge.</li>
 * </ul>
 * A new layout is built after every DST update.
 */
public final class CudaLayout {
    public enum Kind { DENSE, GROUPED, CSR }

    public final GroupedLayout grouped;
    public final Mask mask;
    public final Kind kind;
    public final int out, in;
    /** GROUPED: the number of blocks and their shape (rows x cols); 0 otherwise. */
    public final int groups, outPer, inPer;
    /** GROUPED: the rows (units) of block g at outList[g*outPer ..], its columns at inList[g*inPer ..]. */
    public final int[] outList, inList;
    /** 1 where a block position is an active edge; null when no block has holes. */
    public final byte[] blockMask;
    /** Packed offset of the first residual edge (the blocks' total size). */
    public final int blockTotal;
    /** The device's edges in CSR order by output unit: rowPtr (out + 1), each edge's input unit (ascending in a row) and output unit. */
    public final int[] rowPtr, col, edgeRow;
    /** The same edges by input unit: colPtr (in + 1), their output units (ascending in a column), their device positions. */
    public final int[] colPtr, cscRow, cscPerm;
    /** Device edge k is the grouped layout's residual edge edgeOrder[k]; null when the orders agree. */
    public final int[] edgeOrder;
    public final int edges;
    public final long activeEdges;

    private CudaLayout(GroupedLayout g, Kind kind) {
        this.grouped = g;
        this.mask = g.mask;
        this.kind = kind;
        this.out = g.out;
        this.in = g.in;
        this.blockTotal = g.edgeBase;
        this.edges = g.edges;
        this.activeEdges = g.activeEdges;
        List<Block> blocks = g.blocks;
        if (kind == Kind.GROUPED) {
            groups = blocks.size();
            outPer = blocks.get(0).rows();
            inPer = blocks.get(0).cols();
            outList = new int[groups * outPer];
            inList = new int[groups * inPer];
            for (int b = 0; b < groups; b++) {
                Block k = blocks.get(b);
                System.arraycopy(g.rowOrder, k.rowStart(), outList, b * outPer, outPer);
                System.arraycopy(g.colOrder, k.colStart(), inList, b * inPer, inPer);
            }
            blockMask = g.holePos.length == 0 ? null : holeMask(g);
        } else {
            groups = outPer = inPer = 0;
            outList = inList = null;
            blockMask = null;
        }
        // the grouped layout's edges by (row unit, column unit), then by (column unit, row unit)
        int[] unitRow = new int[edges];
        for (int r = 0; r < out; r++) {
            for (int e = g.rowPtr[r]; e < g.rowPtr[r + 1]; e++) unitRow[e] = g.rowOrder[r];
        }
        int[] byCol = bucket(g.edgeCol, in, null, edges, new int[in + 1]);
        rowPtr = new int[out + 1];
        int[] order = bucket(unitRow, out, byCol, edges, rowPtr);
        col = new int[edges];
        edgeRow = new int[edges];
        for (int k = 0; k < edges; k++) {
            col[k] = g.edgeCol[order[k]];
            edgeRow[k] = unitRow[order[k]];
        }
        colPtr = new int[in + 1];
        cscPerm = bucket(col, in, null, edges, colPtr); // device order is by row unit, so rows ascend in a column
        cscRow = new int[edges];
        for (int q = 0; q < edges; q++) cscRow[q] = edgeRow[cscPerm[q]];
        edgeOrder = isIdentity(order) ? null : order;
    }

    /** The CUDA view of a mask: its grouped layout, or one without dense blocks when no batched launch can take them. */
    public static CudaLayout of(Mask mask) {
        GroupedLayout g = GroupedLayout.of(mask);
        if (g.blocks.isEmpty()) return new CudaLayout(g, Kind.CSR);
        if (isDense(g)) return new CudaLayout(g, Kind.DENSE);
        if (batchable(g)) return new CudaLayout(g, Kind.GROUPED);
        return new CudaLayout(GroupedLayout.of(mask, Double.POSITIVE_INFINITY), Kind.CSR);
    }

    private static boolean isDense(GroupedLayout g) {
        return g.blocks.size() == 1 && g.edges == 0 && g.holePos.length == 0 && g.rowIdentity && g.colIdentity
                && g.blocks.get(0).rows() == g.out && g.blocks.get(0).cols() == g.in;
    }

    /**
     * The blocks tile the layer's groups one to one (every row group and every column group in
     * exactly one block) and have one shape: what a launch over G blocks of outPer x inPer, with
     * out = G * outPer and in = G * inPer, takes. G2G's diagonal group blocks do.
     */
    private static boolean batchable(GroupedLayout g) {
        List<Block> blocks = g.blocks;
        if (blocks.size() != g.rowGroups() || blocks.size() != g.colGroups()) return false;
        Block first = blocks.get(0);
        Set<Integer> rowGroups = new HashSet<>(), colGroups = new HashSet<>();
        for (Block b : blocks) {
            if (b.rows() != first.rows() || b.cols() != first.cols()) return false;
            if (!rowGroups.add(b.rowGroup()) || !colGroups.add(b.colGroup())) return false;
        }
        return true;
    }

    private static byte[] holeMask(GroupedLayout g) {
        byte[] m = new byte[g.edgeBase];
        Arrays.fill(m, (byte) 1);
        for (int p : g.holePos) m[p] = 0;
        return m;
    }

    /**
     * A stable counting sort of the n edges in {@code order} (null: 0..n-1) by key[e] in [0, keys):
     * returns the sorted order and fills ptr (keys + 1) with each key's range in it.
     */
    private static int[] bucket(int[] key, int keys, int[] order, int n, int[] ptr) {
        for (int k = 0; k < n; k++) ptr[key[order == null ? k : order[k]] + 1]++;
        for (int k = 0; k < keys; k++) ptr[k + 1] += ptr[k];
        int[] next = Arrays.copyOf(ptr, keys), sorted = new int[n];
        for (int k = 0; k < n; k++) {
            int e = order == null ? k : order[k];
            sorted[next[key[e]]++] = e;
        }
        return sorted;
    }

    private static boolean isIdentity(int[] a) {
        for (int k = 0; k < a.length; k++) if (a[k] != k) return false;
        return true;
    }

    public int packedSize() { return grouped.packedSize(); }

    /** Multiply-adds per sample of one forward pass, holes of the blocks included. */
    public long macsPerSample() { return grouped.macsPerSample(); }

    /** Dense row-major W (out x in) to the packed vector as the device holds it; zeros off the mask. */
    public float[] pack(float[] dense) {
        if (dense.length != out * in) throw new IllegalArgumentException("pack: expected " + out * in + " values, got " + dense.length);
        float[] p = new float[packedSize()];
        grouped.pack(dense, p, 0);
        if (edgeOrder == null) return p;
        float[] d = p.clone();
        for (int k = 0; k < edges; k++) d[blockTotal + k] = p[blockTotal + edgeOrder[k]];
        return d;
    }

    /** The device's packed vector back to dense row-major (out x in); zeros off the mask. */
    public float[] unpack(float[] p) {
        if (p.length < packedSize()) throw new IllegalArgumentException("unpack: packed vector too short");
        float[] g = p;
        if (edgeOrder != null) {
            g = Arrays.copyOf(p, packedSize());
            for (int k = 0; k < edges; k++) g[blockTotal + edgeOrder[k]] = p[blockTotal + k];
        }
        float[] d = new float[out * in];
        grouped.unpack(g, 0, d);
        return d;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case DENSE -> "dense " + out + "x" + in;
            case GROUPED -> "grouped " + out + "x" + in + ": " + groups + " blocks " + outPer + "x" + inPer
                    + (blockMask != null ? " with holes" : "") + " + " + edges + " inter-group edges";
            case CSR -> "csr " + out + "x" + in + ": " + edges + " edges";
        };
    }
}
