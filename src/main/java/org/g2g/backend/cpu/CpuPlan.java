package org.g2g.backend.cpu;

import java.util.Arrays;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.layout.GroupedLayout;
import org.g2g.backend.layout.GroupedLayout.Block;
import org.g2g.model.Mask;

/**
 * What the CPU adds to the shared {@link GroupedLayout}: panels and the thread split.
 *
 * Each group is cut into near-equal panels of at most {@link #PANEL} units, rows and columns
 * alike. Forward and weight gradient split row panels over the threads, the input gradient
 * splits column panels, by cost (dense block multiply-adds + residual edges + a per-unit
 * overhead), so every output element has one owner and one summation order. Residual edges
 * are walked column panel by column panel ({@link #rowPanelPtr}, {@link #colPanelPtr}) so the
 * activation rows one panel's edges read (PANEL x batch floats) stay in L2.
 */
final class CpuPlan implements LayerPlan {
    /** Panel size: a 128-unit slice of a batch-256 activation is 128 KiB, which stays in L2. */
    static final int PANEL = 128;

    final GroupedLayout layout;
    final int out, in;
    final int[] rpStart, cpStart;     // panel boundaries in positions
    final int nRp, nCp;
    final int[] rpGroup, cpGroup;     // the group of each panel
    final int[][] rowBlocks, colBlocks; // dense blocks of each row group / column group
    final int[] rowPanelPtr;          // edges of row position r in column panel cp: [r*(nCp+1)+cp, +1)
    final int[] colPanelPtr;          // CSC edges of column position j in row panel rp: [j*(nRp+1)+rp, +1)
    final int[] tileEdges;            // residual edges of (row panel, column panel)
    final int[] fwdSplit, bwdSplit;   // panel range of each thread
    /**
     * Row panels (wholeRows) and column panels (wholeCols) whose lines have so few residual edges
     * that each line's edges are walked in one call across all panels of the other side rather than
     * panel by panel: at a few edges per line and panel (ER masks at a few percent), a panel-by-panel
     * walk re-reads and re-writes the output row once per panel and the calls cost more than the
     * edges, while the L2 locality it buys matters only when many edges read each activation row.
     * The per-lane summation order is the same either way (edges in order), so the numbers are too.
     */
    final boolean[] wholeRows, wholeCols;
    /**
     * Residual edges per line below which a panel's lines are walked whole ({@link #wholeRows}).
     * Measured on one 1024x1024 ER layer, batch 256, one thread (2-core AMD EPYC, AVX2): at 1%
     * forward 0.92 -> 0.26 ms, input gradient 0.66 -> 0.25, weight gradient 0.47 -> 0.30; at 2%
     * 0.69 -> 0.41 ms forward; about even at 5% (51 edges a line); at 10% (102) panels win.
     */
    static final int WHOLE_LINE_EDGES = 64;
    /** Share of out x in covered by dense blocks: above 1/2 the weight gradient runs as GEMMs over the batch. */
    final double denseShare;

    CpuPlan(Mask mask, int threads) { this(GroupedLayout.of(mask), threads); }

    CpuPlan(GroupedLayout l, int threads) {
        layout = l;
        out = l.out;
        in = l.in;
        rpStart = panels(l.rowGroupStart);
        cpStart = panels(l.colGroupStart);
        nRp = rpStart.length - 1;
        nCp = cpStart.length - 1;
        rpGroup = groupOf(rpStart, l.rowGroupStart);
        cpGroup = groupOf(cpStart, l.colGroupStart);
        rowBlocks = new int[l.rowGroups()][];
        colBlocks = new int[l.colGroups()][];
        for (int g = 0; g < rowBlocks.length; g++) rowBlocks[g] = blocksWhere(l, true, g);
        for (int g = 0; g < colBlocks.length; g++) colBlocks[g] = blocksWhere(l, false, g);
        rowPanelPtr = panelPointers(l.rowPtr, l.edgeColPos, cpStart, out);
        colPanelPtr = panelPointers(l.colPtr, l.cscRowPos, rpStart, in);
        tileEdges = new int[nRp * nCp];
        int[] rpOf = panelOf(rpStart, out);
        for (int r = 0; r < out; r++) {
            for (int cp = 0; cp < nCp; cp++) {
                int q = r * (nCp + 1) + cp;
                tileEdges[rpOf[r] * nCp + cp] += rowPanelPtr[q + 1] - rowPanelPtr[q];
            }
        }
        denseShare = (double) l.edgeBase / ((double) out * in);
        long[] rowCost = new long[nRp], colCost = new long[nCp];
        for (int rp = 0; rp < nRp; rp++) {
            int rows = rpStart[rp + 1] - rpStart[rp];
            rowCost[rp] = (long) rows * 16 + l.rowPtr[rpStart[rp + 1]] - l.rowPtr[rpStart[rp]];
            for (int b : rowBlocks[rpGroup[rp]]) rowCost[rp] += (long) rows * l.blocks.get(b).cols();
        }
        for (int cp = 0; cp < nCp; cp++) {
            int cols = cpStart[cp + 1] - cpStart[cp];
            colCost[cp] = (long) cols * 16 + l.colPtr[cpStart[cp + 1]] - l.colPtr[cpStart[cp]];
            for (int b : colBlocks[cpGroup[cp]]) colCost[cp] += (long) cols * l.blocks.get(b).rows();
        }
        wholeRows = new boolean[nRp];
        wholeCols = new boolean[nCp];
        for (int rp = 0; rp < nRp; rp++) {
            int rows = rpStart[rp + 1] - rpStart[rp];
            wholeRows[rp] = l.rowPtr[rpStart[rp + 1]] - l.rowPtr[rpStart[rp]] < (long) WHOLE_LINE_EDGES * rows;
        }
        for (int cp = 0; cp < nCp; cp++) {
            int cols = cpStart[cp + 1] - cpStart[cp];
            wholeCols[cp] = l.colPtr[cpStart[cp + 1]] - l.colPtr[cpStart[cp]] < (long) WHOLE_LINE_EDGES * cols;
        }
        fwdSplit = split(rowCost, threads);
        bwdSplit = split(colCost, threads);
    }

    Block block(int b) { return layout.blocks.get(b); }

    /** Edge offsets already computed, by (index list, stride); a run uses one or two strides (training, evaluation). */
    private record Offsets(int[] idx, int ld, int[] off) {}
    private final Offsets[] offsets = new Offsets[8];
    private int nextOffsets;

    /**
     * off[e] = idx[e] x ld for every entry of one of the layout's residual-edge index lists (CSR
     * columns or CSC rows, by unit or by group position): the row offsets the edge kernels take
     * ({@link SparseKernels}) for operands of row stride ld. Computed once per (list, stride).
     */
    synchronized int[] edgeOffsets(int[] idx, int ld) {
        for (Offsets o : offsets) if (o != null && o.idx == idx && o.ld == ld) return o.off;
        int[] off = new int[idx.length];
        for (int e = 0; e < off.length; e++) off[e] = Math.multiplyExact(idx[e], ld);
        offsets[nextOffsets] = new Offsets(idx, ld, off);
        nextOffsets = (nextOffsets + 1) % offsets.length;
        return off;
    }

    /** Residual edges in row panel rp's rows. */
    int rowPanelEdges(int rp) { return layout.rowPtr[rpStart[rp + 1]] - layout.rowPtr[rpStart[rp]]; }

    /** Residual edges in column panel cp's columns. */
    int colPanelEdges(int cp) { return layout.colPtr[cpStart[cp + 1]] - layout.colPtr[cpStart[cp]]; }

    private static int[] blocksWhere(GroupedLayout l, boolean byRow, int g) {
        return java.util.stream.IntStream.range(0, l.blocks.size())
                .filter(b -> (byRow ? l.blocks.get(b).rowGroup() : l.blocks.get(b).colGroup()) == g).toArray();
    }

    /** Each group run cut into near-equal panels of at most PANEL positions. */
    private static int[] panels(int[] groupStart) {
        int n = groupStart[groupStart.length - 1];
        int[] s = new int[n + 2];
        int np = 0;
        for (int g = 0; g + 1 < groupStart.length; g++) {
            int a = groupStart[g], len = groupStart[g + 1] - a, pieces = Math.max(1, (len + PANEL - 1) / PANEL);
            for (int k = 0; k < pieces; k++) s[np++] = a + (int) ((long) len * k / pieces);
        }
        s[np++] = n;
        return Arrays.copyOf(s, np);
    }

    private static int[] groupOf(int[] panelStart, int[] groupStart) {
        int[] g = new int[panelStart.length - 1];
        for (int p = 0, k = 0; p < g.length; p++) {
            while (groupStart[k + 1] <= panelStart[p]) k++;
            g[p] = k;
        }
        return g;
    }

    private static int[] panelOf(int[] panelStart, int n) {
        int[] of = new int[n];
        for (int p = 0; p + 1 < panelStart.length; p++) Arrays.fill(of, panelStart[p], panelStart[p + 1], p);
        return of;
    }

    /** For every line (row or column) of a CSR-like index, where its entries enter each panel of the other side. */
    private static int[] panelPointers(int[] ptr, int[] otherPos, int[] panelStart, int lines) {
        int np = panelStart.length - 1;
        int[] pp = new int[lines * (np + 1)];
        for (int r = 0; r < lines; r++) {
            int k = ptr[r];
            for (int p = 0; p < np; p++) {
                pp[r * (np + 1) + p] = k;
                while (k < ptr[r + 1] && otherPos[k] < panelStart[p + 1]) k++;
            }
            pp[r * (np + 1) + np] = ptr[r + 1];
        }
        return pp;
    }

    /** Cuts panels 0..n-1 with the given costs into `parts` contiguous ranges of near-equal cost. */
    private static int[] split(long[] cost, int parts) {
        int n = cost.length;
        long total = 0;
        for (long c : cost) total += c;
        int[] s = new int[parts + 1];
        long acc = 0;
        int k = 0;
        for (int t = 1; t < parts; t++) {
            long target = total * t / parts;
            while (k < n && acc + cost[k] / 2 < target) acc += cost[k++];
            s[t] = k;
        }
        s[parts] = n;
        return s;
    }

    @Override public Mask mask() { return layout.mask; }
    @Override public int packedSize() { return layout.packedSize(); }
    @Override public long activeEdges() { return layout.activeEdges; }
    @Override public long macsPerSample() { return layout.macsPerSample(); }
}
