package org.g2g.backend.cpu;

import java.util.Arrays;
import org.g2g.backend.LayerPlan;
import org.g2g.model.Mask;

/**
 * The block-masked layout of one layer for {@link CpuBackend}.
 *
 * Rows (outputs) and columns (inputs) are put in group order (a stable sort by group label;
 * identity without labels), then each group is cut into panels of at most {@link #PANEL}
 * units. A tile is (row panel, column panel): with G2G masks the diagonal tiles are the
 * dense group blocks, whatever the grouping (index, interleaved, random), because kernels
 * reach units through the permutations {@link #rowPerm} and {@link #colPerm}.
 *
 * A tile whose density is at least {@link #DENSE_TILE_MIN_DENSITY} is stored dense
 * (row-major, tile rows x tile columns, holes = 0); the edges of the other tiles are stored
 * as CSR by permuted output row (columns ascending in permuted order), plus a CSC index
 * for the input gradient. Packed vector = [dense tiles in tile order][sparse edges in CSR order].
 * A fully dense mask becomes dense tiles only: one tiled GEMM.
 */
final class BlockPlan implements LayerPlan {
    /**
     * Tiles at least this dense run as small GEMMs (holes multiplied as zeros), the rest as
     * sparse edges. Measured with `StepBench --probe` on the 2-core Zen3 (256-bit vectors,
     * forward + input gradient + weight gradient of a 1024x1024 layer of 128x128 tiles at one
     * density, CPU time): dense tiles cost the same at any density (~21 ms, 75-78 GFLOP/s at
     * density 1), sparse edges cost ~28 ms x density (55-60 useful GFLOP/s), so they cross
     * at 0.70-0.75. G2G's diagonal blocks (1.0, and ~0.9 after DST moves) and off-diagonal
     * blocks (0.15) sit far on either side.
     */
    static final double DENSE_TILE_MIN_DENSITY = 0.7;
    /** Panel size: a 128-unit slice of a batch-256 activation is 128 KiB, which stays in L2. */
    static final int PANEL = 128;

    final Mask mask;
    final int out, in;
    final int[] rowPerm, colPerm;          // permuted position -> unit index
    final int[] rpStart, cpStart;          // panel boundaries in permuted positions
    final int nRp, nCp;
    final int[] tileOff;                   // packed offset of dense tile t = rp * nCp + cp, -1 when sparse
    final int[] holePtr, holePos;          // packed positions of holes inside dense tiles, per tile
    final boolean[] rowPanelHasDense;
    final boolean[] colPanelHasDense;
    final int sparseBase;                  // packed offset of the first sparse edge
    final int nnzSparse;
    final int[] csrPtr, csrCol;            // by permuted row: edges, input unit index
    final int[] cscPtr, cscRow, cscEdge;   // by permuted column: edges, output unit index, CSR edge id
    final int[] rowPanelPtr;               // CSR edges of permuted row r in column panel cp: [r*(nCp+1)+cp, +1)
    final int[] colPanelPtr;               // CSC edges of permuted column j in row panel rp: [j*(nRp+1)+rp, +1)
    final int[] tileEdges;                 // sparse edges of tile t (0 for dense tiles)
    final int packedSize;
    final long active;
    final long macs;
    final int[] fwdSplit;                  // row-panel range of each thread (forward, weight gradient)
    final int[] bwdSplit;                  // column-panel range of each thread (input gradient)
    final float[] wT;                      // scratch: sparse weights in CSC order (input gradient)
    final int[] csrColPos, cscRowPos;      // the same edges' permuted positions (for permuted copies)
    final boolean rowIdentity, colIdentity;
    final int[] ident;                     // 0, 1, 2, ... max(out, in): index array over a permuted copy
    /** Share of out x in covered by dense tiles: above 1/2 the weight gradient runs as a transposed GEMM. */
    final double denseShare;
    /** Scratch for activations copied into permuted order (non-identity permutations only). */
    private float[] xPerm, gPerm, xT;

    BlockPlan(Mask mask, int threads) { this(mask, threads, DENSE_TILE_MIN_DENSITY); }

    /** With an explicit dense-tile threshold (StepBench's break-even probe). */
    BlockPlan(Mask mask, int threads, double denseTileMinDensity) {
        this.mask = mask;
        this.out = mask.out;
        this.in = mask.in;
        boolean[] a = mask.active;
        rowPerm = groupOrder(mask.groupOut, out);
        colPerm = groupOrder(mask.groupIn, in);
        rowIdentity = isIdentity(rowPerm);
        colIdentity = isIdentity(colPerm);
        ident = range(Math.max(out, in));
        rpStart = panels(mask.groupOut, rowPerm);
        cpStart = panels(mask.groupIn, colPerm);
        nRp = rpStart.length - 1;
        nCp = cpStart.length - 1;

        // tile densities
        int nt = nRp * nCp;
        long[] cnt = new long[nt];
        int[] cpOf = new int[in];
        for (int cp = 0; cp < nCp; cp++) for (int j = cpStart[cp]; j < cpStart[cp + 1]; j++) cpOf[j] = cp;
        long act = 0;
        for (int rp = 0; rp < nRp; rp++) {
            for (int r = rpStart[rp]; r < rpStart[rp + 1]; r++) {
                int base = rowPerm[r] * in;
                for (int j = 0; j < in; j++) {
                    if (a[base + colPerm[j]]) {
                        cnt[rp * nCp + cpOf[j]]++;
                        act++;
                    }
                }
            }
        }
        active = act;
        tileOff = new int[nt];
        rowPanelHasDense = new boolean[nRp];
        colPanelHasDense = new boolean[nCp];
        int off = 0;
        long mac = 0;
        int holes = 0;
        for (int rp = 0; rp < nRp; rp++) {
            for (int cp = 0; cp < nCp; cp++) {
                int t = rp * nCp + cp;
                long area = (long) (rpStart[rp + 1] - rpStart[rp]) * (cpStart[cp + 1] - cpStart[cp]);
                if (cnt[t] > 0 && cnt[t] >= denseTileMinDensity * area) {
                    tileOff[t] = off;
                    off += (int) area;
                    mac += area;
                    holes += (int) (area - cnt[t]);
                    rowPanelHasDense[rp] = true;
                    colPanelHasDense[cp] = true;
                } else {
                    tileOff[t] = -1;
                }
            }
        }
        sparseBase = off;
        denseShare = (double) off / ((double) out * in);
        holePtr = new int[nt + 1];
        holePos = new int[holes];
        int h = 0;
        for (int t = 0; t < nt; t++) {
            holePtr[t] = h;
            if (tileOff[t] < 0) continue;
            int rp = t / nCp, cp = t % nCp, tc = cpStart[cp + 1] - cpStart[cp];
            for (int r = rpStart[rp]; r < rpStart[rp + 1]; r++) {
                int base = rowPerm[r] * in;
                for (int j = cpStart[cp]; j < cpStart[cp + 1]; j++) {
                    if (!a[base + colPerm[j]]) holePos[h++] = tileOff[t] + (r - rpStart[rp]) * tc + (j - cpStart[cp]);
                }
            }
        }
        holePtr[nt] = h;

        // sparse edges: CSR by permuted row, columns ascending in permuted order
        csrPtr = new int[out + 1];
        int[] rpOf = new int[out];
        for (int rp = 0; rp < nRp; rp++) for (int r = rpStart[rp]; r < rpStart[rp + 1]; r++) rpOf[r] = rp;
        int e = 0;
        int[] colTmp = new int[(int) Math.min(act, Integer.MAX_VALUE - 8)];
        int[] colPosTmp = new int[colTmp.length];
        for (int r = 0; r < out; r++) {
            csrPtr[r] = e;
            int base = rowPerm[r] * in, tb = rpOf[r] * nCp;
            for (int j = 0; j < in; j++) {
                if (a[base + colPerm[j]] && tileOff[tb + cpOf[j]] < 0) {
                    colTmp[e] = colPerm[j];
                    colPosTmp[e] = j;
                    e++;
                }
            }
        }
        csrPtr[out] = e;
        nnzSparse = e;
        rowPanelPtr = new int[out * (nCp + 1)];
        for (int r = 0; r < out; r++) {
            int k = csrPtr[r];
            for (int cp = 0; cp < nCp; cp++) {
                rowPanelPtr[r * (nCp + 1) + cp] = k;
                while (k < csrPtr[r + 1] && colPosTmp[k] < cpStart[cp + 1]) k++;
            }
            rowPanelPtr[r * (nCp + 1) + nCp] = csrPtr[r + 1];
        }
        csrCol = Arrays.copyOf(colTmp, e);
        csrColPos = Arrays.copyOf(colPosTmp, e);
        mac += e;
        macs = mac;
        packedSize = sparseBase + e;

        // CSC: for every permuted column, its sparse edges in permuted-row order
        cscPtr = new int[in + 1];
        for (int k = 0; k < e; k++) cscPtr[colPosTmp[k] + 1]++;
        for (int j = 0; j < in; j++) cscPtr[j + 1] += cscPtr[j];
        int[] fill = Arrays.copyOf(cscPtr, in);
        cscRow = new int[e];
        cscRowPos = new int[e];
        cscEdge = new int[e];
        for (int r = 0; r < out; r++) {
            for (int k = csrPtr[r]; k < csrPtr[r + 1]; k++) {
                int q = fill[colPosTmp[k]]++;
                cscRow[q] = rowPerm[r];
                cscRowPos[q] = r;
                cscEdge[q] = k;
            }
        }
        wT = new float[e];
        colPanelPtr = new int[in * (nRp + 1)];
        for (int j = 0; j < in; j++) {
            int k = cscPtr[j];
            for (int rp = 0; rp < nRp; rp++) {
                colPanelPtr[j * (nRp + 1) + rp] = k;
                // cscRow holds unit indices; compare permuted positions through rpOf and the inverse permutation
                while (k < cscPtr[j + 1] && rpOf[rowPos(cscEdge[k])] <= rp) k++;
            }
            colPanelPtr[j * (nRp + 1) + nRp] = cscPtr[j + 1];
        }
        tileEdges = new int[nt];
        for (int r = 0; r < out; r++) {
            for (int cp = 0; cp < nCp; cp++) {
                tileEdges[rpOf[r] * nCp + cp] += rowPanelPtr[r * (nCp + 1) + cp + 1] - rowPanelPtr[r * (nCp + 1) + cp];
            }
        }

        // static partition by cost (dense MACs + sparse edges + a per-unit overhead)
        long[] rowCost = new long[nRp];
        for (int rp = 0; rp < nRp; rp++) {
            int rows = rpStart[rp + 1] - rpStart[rp];
            long cst = (long) rows * 16 + csrPtr[rpStart[rp + 1]] - csrPtr[rpStart[rp]];
            for (int cp = 0; cp < nCp; cp++) {
                if (tileOff[rp * nCp + cp] >= 0) cst += (long) rows * (cpStart[cp + 1] - cpStart[cp]);
            }
            rowCost[rp] = cst;
        }
        long[] colCost = new long[nCp];
        for (int cp = 0; cp < nCp; cp++) {
            int cols = cpStart[cp + 1] - cpStart[cp];
            long cst = (long) cols * 16 + cscPtr[cpStart[cp + 1]] - cscPtr[cpStart[cp]];
            for (int rp = 0; rp < nRp; rp++) {
                if (tileOff[rp * nCp + cp] >= 0) cst += (long) cols * (rpStart[rp + 1] - rpStart[rp]);
            }
            colCost[cp] = cst;
        }
        fwdSplit = split(rowCost, threads);
        bwdSplit = split(colCost, threads);
    }

    /** Permuted row of CSR edge k (binary search in csrPtr). */
    private int rowPos(int k) {
        int lo = 0, hi = out - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (csrPtr[mid] <= k) lo = mid; else hi = mid - 1;
        }
        return lo;
    }

    private static boolean isIdentity(int[] perm) {
        for (int k = 0; k < perm.length; k++) if (perm[k] != k) return false;
        return true;
    }

    /** An aligned scratch array for `in` rows of stride ld (inputs in permuted order). */
    float[] xScratch(int ld) {
        int need = CpuTensor.ALIGN + in * ld;
        if (xPerm == null || xPerm.length < need) xPerm = new float[need];
        return xPerm;
    }

    /** An aligned scratch array for `out` rows of stride ld (output gradients in permuted order). */
    float[] gScratch(int ld) {
        int need = CpuTensor.ALIGN + out * ld;
        if (gPerm == null || gPerm.length < need) gPerm = new float[need];
        return gPerm;
    }

    /** An aligned scratch array for `batch` rows of stride ld (the inputs transposed). */
    float[] tScratch(int batch, int ld) {
        int need = CpuTensor.ALIGN + batch * ld;
        if (xT == null || xT.length < need) xT = new float[need];
        return xT;
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int k = 0; k < n; k++) r[k] = k;
        return r;
    }

    private int[] longIdent = new int[0];

    /**
     * An identity index array of at least n entries, for kernels that index over the batch
     * (which can exceed the layer's widths). Call outside parallel regions: it may reallocate.
     */
    int[] identity(int n) {
        if (n <= ident.length) return ident;
        if (longIdent.length < n) longIdent = range(n);
        return longIdent;
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

    /** Panel boundaries: each group run cut into near-equal panels of at most PANEL units. */
    private static int[] panels(int[] groups, int[] perm) {
        int n = perm.length;
        int[] starts = new int[n + 2];
        int np = 0;
        int s = 0;
        while (s < n) {
            int e = s + 1;
            if (groups != null) while (e < n && groups[perm[e]] == groups[perm[s]]) e++;
            else e = n;
            int len = e - s, pieces = (len + PANEL - 1) / PANEL;
            for (int k = 0; k < pieces; k++) starts[np++] = s + (int) ((long) len * k / pieces);
            s = e;
        }
        starts[np++] = n;
        return Arrays.copyOf(starts, np);
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

    @Override public Mask mask() { return mask; }
    @Override public int packedSize() { return packedSize; }
    @Override public long activeEdges() { return active; }
    @Override public long macsPerSample() { return macs; }
}
