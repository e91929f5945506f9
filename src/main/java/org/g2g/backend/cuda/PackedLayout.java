package org.g2g.backend.cuda;

import org.g2g.model.Mask;

/**
 * How the CUDA backend stores one layer's weights: pure Java, built on the host from a
 * {@link Mask} and uploaded as index arrays. Three kinds:
 * <ul>
 *   <li>DENSE: the mask is full; packed = W row-major (out x in), products go to cuBLAS.</li>
 *   <li>GROUPED: the G2G shape. G dense diagonal group blocks, block g = rows outList[g*outPer ..]
 *       x columns inList[g*inPer ..] stored row-major (outPer x inPer) at g*outPer*inPer, holes
 *       (inactive intra-group edges) held at 0; then every active inter-group edge in CSR order
 *       (by output row, then input column) at blockTotal + e. A CSC view (colPtr, cscRow,
 *       cscPerm = CSR position) serves the input gradient without storing weights twice.</li>
 *   <li>CSR: no usable group structure (Erdos-Renyi, unequal groups, sparse blocks): every
 *       active edge in CSR order.</li>
 * </ul>
 * A new layout is built after every DST update, so any mask after regrowth is represented
 * exactly: regrown intra-group edges fill block holes, regrown inter-group edges join the CSR.
 */
public final class PackedLayout {
    public enum Kind { DENSE, GROUPED, CSR }

    /** Group blocks are used only when at least this share of their positions is active. */
    public static final double MIN_BLOCK_FILL = 0.25;

    public final Mask mask;
    public final Kind kind;
    public final int out, in;
    public final int groups, outPer, inPer;
    /** Units of each group, group by group, ascending inside a group (GROUPED only). */
    public final int[] outList, inList;
    /** 1 where a block position is an active edge; null when no block has holes. */
    public final byte[] blockMask;
    public final int blockTotal;
    /** Edges in CSR order: rowPtr (out + 1), col and row of every edge. */
    public final int[] rowPtr, col, edgeRow;
    /** The same edges by input column: colPtr (in + 1), their rows, their CSR positions. */
    public final int[] colPtr, cscRow, cscPerm;
    public final int edges;
    public final long activeEdges;

    private PackedLayout(Mask mask, Kind kind, int groups, int outPer, int inPer, int[] outList,
                         int[] inList, byte[] blockMask, int[] rowPtr, int[] col, int[] edgeRow,
                         int[] colPtr, int[] cscRow, int[] cscPerm, long activeEdges) {
        this.mask = mask;
        this.kind = kind;
        this.out = mask.out;
        this.in = mask.in;
        this.groups = groups;
        this.outPer = outPer;
        this.inPer = inPer;
        this.outList = outList;
        this.inList = inList;
        this.blockMask = blockMask;
        this.blockTotal = groups * outPer * inPer;
        this.rowPtr = rowPtr;
        this.col = col;
        this.edgeRow = edgeRow;
        this.colPtr = colPtr;
        this.cscRow = cscRow;
        this.cscPerm = cscPerm;
        this.edges = col.length;
        this.activeEdges = activeEdges;
    }

    public static PackedLayout of(Mask m) {
        long active = m.activeCount();
        if (active == (long) m.out * m.in) {
            int[] none = new int[0];
            return new PackedLayout(m, Kind.DENSE, 0, 0, 0, null, null, null, none, none, none, none, none, none, active);
        }
        int g = equalGroups(m);
        if (g > 0) {
            int outPer = m.out / g, inPer = m.in / g;
            long intraActive = 0;
            for (int o = 0; o < m.out; o++) {
                for (int i = 0; i < m.in; i++) {
                    if (m.groupOut[o] == m.groupIn[i] && m.active[o * m.in + i]) intraActive++;
                }
            }
            long blockPositions = (long) g * outPer * inPer;
            if (intraActive >= MIN_BLOCK_FILL * blockPositions && blockPositions <= Integer.MAX_VALUE / 2) {
                return grouped(m, g, outPer, inPer, active, intraActive < blockPositions);
            }
        }
        return csr(m, active, null);
    }

    /** The group count when both sides are split into G >= 1 groups of equal size, else 0. */
    static int equalGroups(Mask m) {
        if (m.groupOut == null || m.groupIn == null) return 0;
        int g = 0;
        for (int v : m.groupOut) { if (v < 0) return 0; g = Math.max(g, v + 1); }
        for (int v : m.groupIn) { if (v < 0) return 0; g = Math.max(g, v + 1); }
        if (m.out % g != 0 || m.in % g != 0) return 0;
        int[] co = new int[g], ci = new int[g];
        for (int v : m.groupOut) co[v]++;
        for (int v : m.groupIn) ci[v]++;
        for (int k = 0; k < g; k++) if (co[k] != m.out / g || ci[k] != m.in / g) return 0;
        return g;
    }

    private static PackedLayout grouped(Mask m, int g, int outPer, int inPer, long active, boolean holes) {
        int[] outList = byGroup(m.groupOut, g, outPer);
        int[] inList = byGroup(m.groupIn, g, inPer);
        byte[] bm = null;
        if (holes) {
            bm = new byte[g * outPer * inPer];
            for (int k = 0; k < g; k++) {
                for (int r = 0; r < outPer; r++) {
                    int o = outList[k * outPer + r];
                    int base = (k * outPer + r) * inPer;
                    for (int c = 0; c < inPer; c++) {
                        if (m.active[o * m.in + inList[k * inPer + c]]) bm[base + c] = 1;
                    }
                }
            }
        }
        PackedLayout csr = csr(m, active, m);
        return new PackedLayout(m, Kind.GROUPED, g, outPer, inPer, outList, inList, bm, csr.rowPtr,
                csr.col, csr.edgeRow, csr.colPtr, csr.cscRow, csr.cscPerm, active);
    }

    private static int[] byGroup(int[] labels, int g, int per) {
        int[] list = new int[labels.length];
        int[] fill = new int[g];
        for (int u = 0; u < labels.length; u++) {
            int k = labels[u];
            list[k * per + fill[k]++] = u;
        }
        return list;
    }

    /** CSR + CSC of the active edges; with {@code skipIntra}, only those crossing groups. */
    private static PackedLayout csr(Mask m, long active, Mask skipIntra) {
        int[] rowPtr = new int[m.out + 1];
        for (int o = 0; o < m.out; o++) {
            int c = 0, base = o * m.in;
            for (int i = 0; i < m.in; i++) {
                if (m.active[base + i] && !(skipIntra != null && m.groupOut[o] == m.groupIn[i])) c++;
            }
            rowPtr[o + 1] = rowPtr[o] + c;
        }
        int e = rowPtr[m.out];
        int[] col = new int[e], row = new int[e];
        int[] colPtr = new int[m.in + 1];
        for (int o = 0, k = 0; o < m.out; o++) {
            int base = o * m.in;
            for (int i = 0; i < m.in; i++) {
                if (m.active[base + i] && !(skipIntra != null && m.groupOut[o] == m.groupIn[i])) {
                    col[k] = i;
                    row[k] = o;
                    colPtr[i + 1]++;
                    k++;
                }
            }
        }
        for (int i = 0; i < m.in; i++) colPtr[i + 1] += colPtr[i];
        int[] next = java.util.Arrays.copyOf(colPtr, m.in);
        int[] cscRow = new int[e], cscPerm = new int[e];
        for (int k = 0; k < e; k++) { // CSR order is row-ascending, so each column's rows ascend
            int p = next[col[k]]++;
            cscRow[p] = row[k];
            cscPerm[p] = k;
        }
        return new PackedLayout(m, Kind.CSR, 0, 0, 0, null, null, null, rowPtr, col, row, colPtr,
                cscRow, cscPerm, active);
    }

    public int packedSize() {
        return kind == Kind.DENSE ? out * in : blockTotal + edges;
    }

    /** Multiply-adds per sample of one forward pass, holes of the blocks included. */
    public long macsPerSample() {
        return kind == Kind.DENSE ? (long) out * in : (long) blockTotal + edges;
    }

    /** Dense row-major W (out x in) to the packed layout; zeros off the mask. */
    public float[] pack(float[] dense) {
        if (dense.length != out * in) throw new IllegalArgumentException("pack: expected " + out * in + " values, got " + dense.length);
        float[] p = new float[packedSize()];
        if (kind == Kind.DENSE) {
            System.arraycopy(dense, 0, p, 0, p.length);
            return p;
        }
        for (int g = 0; g < groups; g++) {
            for (int r = 0; r < outPer; r++) {
                int o = outList[g * outPer + r], base = (g * outPer + r) * inPer;
                for (int c = 0; c < inPer; c++) {
                    int i = inList[g * inPer + c];
                    if (mask.active[o * in + i]) p[base + c] = dense[o * in + i];
                }
            }
        }
        for (int e = 0; e < edges; e++) p[blockTotal + e] = dense[edgeRow[e] * in + col[e]];
        return p;
    }

    /** The packed vector back to dense row-major (out x in); zeros off the mask. */
    public float[] unpack(float[] p) {
        if (p.length < packedSize()) throw new IllegalArgumentException("unpack: packed vector too short");
        float[] d = new float[out * in];
        if (kind == Kind.DENSE) {
            System.arraycopy(p, 0, d, 0, d.length);
            return d;
        }
        for (int g = 0; g < groups; g++) {
            for (int r = 0; r < outPer; r++) {
                int o = outList[g * outPer + r], base = (g * outPer + r) * inPer;
                for (int c = 0; c < inPer; c++) {
                    int i = inList[g * inPer + c];
                    if (mask.active[o * in + i]) d[o * in + i] = p[base + c];
                }
            }
        }
        for (int e = 0; e < edges; e++) d[edgeRow[e] * in + col[e]] = p[blockTotal + e];
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
