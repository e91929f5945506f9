package org.g2g.backend.layout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.g2g.model.Mask;

/**
 * One layer's connectivity in the host-side grouped layout every backend packs its weights in.
 *
 * <p>Rows (outputs) and columns (inputs) are put in group order: a stable sort by group label,
 * the identity without labels. A run of equal labels is a group; a (row group, column group)
 * pair is a block. A block whose fill (active share of its positions) is at least
 * {@link #DENSE_BLOCK_MIN_FILL} is stored dense, row-major in group order, holes held at 0;
 * every other active edge is a residual edge, stored in CSR order (by row position, columns
 * ascending by position) with a CSC index over the same edges for the input gradient.
 * Packed vector = [dense blocks in block order][residual edges in CSR order].
 *
 * <p>So G2GNet's diagonal group blocks are dense blocks (whatever the grouping: kernels reach
 * units through {@link #rowOrder}/{@link #colOrder}), its inter-group edges are residual edges,
 * a dense layer is one block, an Erdős–Rényi mask is residual edges only, and any mask left by
 * regrowth is represented exactly. Backends add only what is theirs: the CPU its panelling and
 * thread split, CUDA its upload. Pack and unpack are one walk ({@link #copy}).
 */
public final class GroupedLayout {
    /**
     * A block at least this full is stored dense (holes multiplied as zeros), below it its edges
     * are residual edges. The break-even fill is (residual-edge rate) / (dense-block rate) per
     * useful multiply-add: measured with `g2g bench` (a 1024-wide layer of 8 groups, forward +
     * input gradient + weight gradient) the CPU's block-masked layer crosses the dense kernel at
     * density 0.6-0.7 with Vector API GEMMs and lower with a native BLAS; cuBLAS against custom
     * edge kernels crosses far lower. One value serves all backends because G2G masks sit far on
     * either side (diagonal blocks 1.0, about 0.9 after DST moves; off-diagonal p' = 0.15 or less),
     * so it decides only masks that are neither, where either choice costs little.
     */
    public static final double DENSE_BLOCK_MIN_FILL = 0.5;

    /** A dense block: positions [rowStart, rowStart + rows) x [colStart, colStart + cols), row-major at offset. */
    public record Block(int rowGroup, int colGroup, int rowStart, int rows, int colStart, int cols, int offset) {
        public int area() { return rows * cols; }
    }

    public final Mask mask;
    public final int out, in;
    /** Position -> unit, and unit -> position. */
    public final int[] rowOrder, colOrder, rowPos, colPos;
    public final boolean rowIdentity, colIdentity;
    /** Group runs in positions: group g is [rowGroupStart[g], rowGroupStart[g + 1]). */
    public final int[] rowGroupStart, colGroupStart;
    public final List<Block> blocks;
    /** The block of (row group, column group) = blockAt[rg * colGroups + cg], or -1 when that pair is residual. */
    public final int[] blockAt;
    /** Packed positions of the holes of block b: holePos[holePtr[b] .. holePtr[b + 1]), ascending. */
    public final int[] holePtr, holePos;
    /** Packed offset of the first residual edge (= the dense blocks' total size). */
    public final int edgeBase;
    /** Residual edges in CSR order: rowPtr by row position (out + 1); each edge's column as unit and as position. */
    public final int[] rowPtr, edgeCol, edgeColPos;
    /** The same edges by column position: colPtr (in + 1); their rows as unit and position, their CSR index. */
    public final int[] colPtr, cscRow, cscRowPos, cscEdge;
    public final int edges;
    public final long activeEdges;

    public static GroupedLayout of(Mask mask) { return new GroupedLayout(mask, DENSE_BLOCK_MIN_FILL); }

    /** With another dense-block threshold (a break-even probe): 0 stores every non-empty block dense, above 1 none. */
    public static GroupedLayout of(Mask mask, double denseBlockMinFill) { return new GroupedLayout(mask, denseBlockMinFill); }

    private GroupedLayout(Mask mask, double minFill) {
        this.mask = mask;
        this.out = mask.out;
        this.in = mask.in;
        rowOrder = groupOrder(mask.groupOut, out);
        colOrder = groupOrder(mask.groupIn, in);
        rowPos = inverse(rowOrder);
        colPos = inverse(colOrder);
        rowIdentity = isIdentity(rowOrder);
        colIdentity = isIdentity(colOrder);
        rowGroupStart = groupRuns(mask.groupOut, rowOrder);
        colGroupStart = groupRuns(mask.groupIn, colOrder);
        int nrg = rowGroupStart.length - 1, ncg = colGroupStart.length - 1;
        int[] rowGroupOf = runIndex(rowGroupStart, out), colGroupOf = runIndex(colGroupStart, in);

        long[] count = new long[nrg * ncg];
        long act = 0;
        for (int r = 0; r < out; r++) {
            int base = rowOrder[r] * in, t = rowGroupOf[r] * ncg;
            for (int j = 0; j < in; j++) {
                if (mask.active[base + colOrder[j]]) { count[t + colGroupOf[j]]++; act++; }
            }
        }
        activeEdges = act;

        blockAt = new int[nrg * ncg];
        List<Block> bl = new ArrayList<>();
        int off = 0;
        for (int rg = 0; rg < nrg; rg++) {
            for (int cg = 0; cg < ncg; cg++) {
                int rows = rowGroupStart[rg + 1] - rowGroupStart[rg], cols = colGroupStart[cg + 1] - colGroupStart[cg];
                long area = (long) rows * cols;
                int t = rg * ncg + cg;
                if (count[t] > 0 && count[t] >= minFill * area && off + area <= Integer.MAX_VALUE - 8) {
                    blockAt[t] = bl.size();
                    bl.add(new Block(rg, cg, rowGroupStart[rg], rows, colGroupStart[cg], cols, off));
                    off += (int) area;
                } else {
                    blockAt[t] = -1;
                }
            }
        }
        blocks = List.copyOf(bl);
        edgeBase = off;

        // residual edges, CSR by row position, then the CSC index over them
        rowPtr = new int[out + 1];
        for (int r = 0; r < out; r++) {
            int base = rowOrder[r] * in, t = rowGroupOf[r] * ncg, c = 0;
            for (int j = 0; j < in; j++) if (mask.active[base + colOrder[j]] && blockAt[t + colGroupOf[j]] < 0) c++;
            rowPtr[r + 1] = rowPtr[r] + c;
        }
        edges = rowPtr[out];
        edgeCol = new int[edges];
        edgeColPos = new int[edges];
        colPtr = new int[in + 1];
        for (int r = 0, e = 0; r < out; r++) {
            int base = rowOrder[r] * in, t = rowGroupOf[r] * ncg;
            for (int j = 0; j < in; j++) {
                if (mask.active[base + colOrder[j]] && blockAt[t + colGroupOf[j]] < 0) {
                    edgeCol[e] = colOrder[j];
                    edgeColPos[e++] = j;
                    colPtr[j + 1]++;
                }
            }
        }
        for (int j = 0; j < in; j++) colPtr[j + 1] += colPtr[j];
        cscRow = new int[edges];
        cscRowPos = new int[edges];
        cscEdge = new int[edges];
        int[] fill = Arrays.copyOf(colPtr, in);
        for (int r = 0; r < out; r++) { // CSR is by ascending row, so each column's rows ascend
            for (int e = rowPtr[r]; e < rowPtr[r + 1]; e++) {
                int q = fill[edgeColPos[e]]++;
                cscRow[q] = rowOrder[r];
                cscRowPos[q] = r;
                cscEdge[q] = e;
            }
        }

        holePtr = new int[blocks.size() + 1];
        int[] holes = new int[16];
        int h = 0;
        for (int b = 0; b < blocks.size(); b++) {
            Block k = blocks.get(b);
            holePtr[b] = h;
            for (int r = 0; r < k.rows; r++) {
                int base = rowOrder[k.rowStart + r] * in;
                for (int c = 0; c < k.cols; c++) {
                    if (!mask.active[base + colOrder[k.colStart + c]]) {
                        if (h == holes.length) holes = Arrays.copyOf(holes, 2 * h);
                        holes[h++] = k.offset + r * k.cols + c;
                    }
                }
            }
        }
        holePtr[blocks.size()] = h;
        holePos = Arrays.copyOf(holes, h);
    }

    public int rowGroups() { return rowGroupStart.length - 1; }

    public int colGroups() { return colGroupStart.length - 1; }

    /** Floats in the packed vector: dense blocks, then residual edges. */
    public int packedSize() { return edgeBase + edges; }

    /** Multiply-adds per sample of one forward pass, holes of the dense blocks included. */
    public long macsPerSample() { return (long) edgeBase + edges; }

    /** Dense row-major W (out x in) into packed[off ..]; holes get 0. */
    public void pack(float[] dense, float[] packed, int off) { copy(dense, packed, off, true); }

    /** packed[off ..] into dense row-major W (out x in); only active entries are written, the rest keep their values. */
    public void unpack(float[] packed, int off, float[] dense) { copy(dense, packed, off, false); }

    /** Packed position of every (o, i) as o * in + i: -1 where the edge is inactive. */
    public int[] packedPositions() {
        int[] pos = new int[out * in];
        Arrays.fill(pos, -1);
        walk((d, p, active) -> { if (active) pos[d] = p; });
        return pos;
    }

    /** The one walk over the packed layout that pack, unpack and packedPositions share. */
    private void copy(float[] dense, float[] packed, int off, boolean toPacked) {
        if (dense.length < out * in) throw new IllegalArgumentException("dense weights: expected " + out * in + " values, got " + dense.length);
        if (packed.length - off < packedSize()) throw new IllegalArgumentException("packed vector too short for " + this);
        walk((d, p, active) -> {
            if (toPacked) packed[off + p] = active ? dense[d] : 0f;
            else if (active) dense[d] = packed[off + p];
        });
    }

    /** Visits (dense index, packed position, active) of every packed position: blocks row by row, then edges. */
    private void walk(PositionVisitor v) {
        boolean[] a = mask.active;
        for (Block k : blocks) {
            for (int r = 0; r < k.rows; r++) {
                int base = rowOrder[k.rowStart + r] * in, p = k.offset + r * k.cols;
                for (int c = 0; c < k.cols; c++) {
                    int d = base + colOrder[k.colStart + c];
                    v.visit(d, p + c, a[d]);
                }
            }
        }
        for (int r = 0; r < out; r++) {
            int base = rowOrder[r] * in;
            for (int e = rowPtr[r]; e < rowPtr[r + 1]; e++) v.visit(base + edgeCol[e], edgeBase + e, true);
        }
    }

    private interface PositionVisitor {
        void visit(int denseIndex, int packedPos, boolean active);
    }

    /** Units in group order (stable), identity without labels. */
    private static int[] groupOrder(int[] groups, int n) {
        Integer[] idx = new Integer[n];
        for (int k = 0; k < n; k++) idx[k] = k;
        if (groups != null) Arrays.sort(idx, (p, q) -> Integer.compare(groups[p], groups[q]));
        int[] perm = new int[n];
        for (int k = 0; k < n; k++) perm[k] = idx[k];
        return perm;
    }

    /** Starts of the runs of equal labels in order, plus n; one run without labels. */
    private static int[] groupRuns(int[] groups, int[] order) {
        int n = order.length;
        int[] s = new int[n + 2];
        int k = 0;
        for (int p = 0; p < n; p++) {
            if (p == 0 || (groups != null && groups[order[p]] != groups[order[p - 1]])) s[k++] = p;
        }
        s[k++] = n;
        if (n == 0) return new int[] {0, 0};
        return Arrays.copyOf(s, k);
    }

    /** For every position, the index of the run that holds it. */
    private static int[] runIndex(int[] starts, int n) {
        int[] of = new int[n];
        for (int g = 0; g + 1 < starts.length; g++) Arrays.fill(of, starts[g], starts[g + 1], g);
        return of;
    }

    private static int[] inverse(int[] perm) {
        int[] inv = new int[perm.length];
        for (int k = 0; k < perm.length; k++) inv[perm[k]] = k;
        return inv;
    }

    private static boolean isIdentity(int[] perm) {
        for (int k = 0; k < perm.length; k++) if (perm[k] != k) return false;
        return true;
    }

    @Override
    public String toString() {
        return "grouped layout " + out + "x" + in + ": " + rowGroups() + "x" + colGroups() + " groups, "
                + blocks.size() + " dense blocks (" + (holePos.length > 0 ? holePos.length + " holes" : "no holes")
                + "), " + edges + " residual edges";
    }
}
