// edges.cu - the inter-group edges of a G2G layer with activations held in shared memory:
// spmm_tiled, the tiled counterpart of spmm_rows (forward and input gradient), and
// edge_grad_tiled, that of edge_grad (weight gradient, an SDDMM); see sparse.cu for those.
//
// What: spmm_tiled  dst[r][b] = act((accumulate ? dst[r][b] : 0) + bias[r] +
//                   sum_{e in ptr[r]..ptr[r+1]) vals[perm ? perm[e] : e] * src[idx[e]][b])
//       for r < rows, b < batch. Forward: the CSR of W (idx = input unit, perm = null, bias, ReLU);
//       input gradient: its CSC view (idx = output unit, perm = CSR position), no bias, no ReLU.
// Precondition: idx ascending within each row (CSR order and the CSC view built from it are),
// and every idx < srcRows.
// Layout: feature-major activations (units x batch, row stride lds / ldd), as everywhere.
// How: a 256-thread block owns a 32-row x 32-column output tile (8 warps x 4 rows, lane =
// batch column). It walks src in slices of 128 rows x 32 columns held in shared memory
// (16 KiB, loaded once per block with coalesced 128-byte rows) and streams each row's edges
// against the slice: a warp loads 32 edges (index, weight) at once, counts with a ballot how
// many fall in the slice (idx is sorted, so they are a prefix), and broadcasts them with
// shuffles. Every src element read from global memory serves all 32 rows of the tile instead
// of one warp per row re-reading it from L2 (spmm_rows).
// Checked by spmm_tiled's parity test (src/test/native/emu/kernel_parity.cc: against a
// double-precision loop on random CSR matrices, odd shapes, both forms) on the emulated device.

#define TILE_ROWS 32
#define TILE_COLS 32
#define SLICE_ROWS 128

// grid: (ceil(rows/32), ceil(batch/32)), block: 256
extern "C" __global__ void __launch_bounds__(256) spmm_tiled(
    int rows, int batch,
    const int* __restrict__ ptr, const int* __restrict__ idx, const int* __restrict__ perm,
    const float* __restrict__ vals, const float* __restrict__ src, int lds, int srcRows,
    const float* __restrict__ bias, float* __restrict__ dst, int ldd, int accumulate, int relu)
{
    __shared__ float slice[SLICE_ROWS][TILE_COLS];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int b0 = blockIdx.y * TILE_COLS, b = b0 + lane;
    const int r0 = blockIdx.x * TILE_ROWS + warp * 4;  // this warp's 4 rows

    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    int cur[4], end[4];
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int r = r0 + j;
        cur[j] = r < rows ? ptr[r] : 0;
        end[j] = r < rows ? ptr[r + 1] : 0;
    }
    for (int k0 = 0; k0 < srcRows; k0 += SLICE_ROWS) {
        __syncthreads();  // the previous slice is no longer read
#pragma unroll
        for (int l = 0; l < SLICE_ROWS / 8; l++) {
            const int k = k0 + warp + 8 * l;
            slice[warp + 8 * l][lane] = (k < srcRows && b < batch) ? src[(size_t)k * lds + b] : 0.f;
        }
        __syncthreads();
        const int kEnd = k0 + SLICE_ROWS;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            // cur/end are equal across the warp, so every lane takes the same path
            while (cur[j] < end[j]) {
                const int e = cur[j] + lane;
                int myIdx = 0x7fffffff;
                float myW = 0.f;
                if (e < end[j]) {
                    myIdx = idx[e];
                    myW = vals[perm ? perm[e] : e];
                }
                const int in = __popc(__ballot_sync(FULL_MASK, myIdx < kEnd));
                for (int t = 0; t < in; t++) {
                    const int c = __shfl_sync(FULL_MASK, myIdx, t);
                    const float w = __shfl_sync(FULL_MASK, myW, t);
                    acc[j] = fmaf(w, slice[c - k0][lane], acc[j]);
                }
                cur[j] += in;
                if (in < 32) break;  // the rest of the row lies in later slices
            }
        }
    }
    if (b >= batch) return;
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int r = r0 + j;
        if (r >= rows) break;
        float* d = dst + (size_t)r * ldd + b;
        float v = (accumulate ? *d : 0.f) + acc[j] + (bias ? bias[r] : 0.f);
        if (relu && v < 0.f) v = 0.f;  // not fmaxf: a NaN stays NaN, as in the CPU backend
        *d = v;
    }
}

// edge_grad_tiled - the weight gradient on the inter-group edges (an SDDMM), tiled like
// spmm_tiled: gw[e] = sum_{b<batch} dy[row(e)][b] * x[col[e]][b] for every CSR edge e of rows
// r < rows (row(e) from ptr). Same result as edge_grad (sparse.cu) up to summation order.
// Preconditions: col ascending within each row, every col < xRows, batch > 0.
// How: a 256-thread block owns 32 rows (8 warps x 4 rows). For each 32-column batch chunk it
// holds the 32 dy rows in shared memory, then walks x in 128-row slices (shared memory, loaded
// once per block and chunk); within a slice a lane takes one edge and sums its 32 products from
// shared memory (rows padded to 33 floats: lanes on different x rows hit different banks). Each
// dy element is read from global memory once per block, each x element once per block and
// chunk, instead of once per edge as in edge_grad. Partial sums per chunk go to gw (the same
// thread adds them up, chunk after chunk).
// grid: ceil(rows/32), block: 256
extern "C" __global__ void __launch_bounds__(256) edge_grad_tiled(
    int rows, int batch, const int* __restrict__ ptr, const int* __restrict__ col,
    const float* __restrict__ x, int ldx, int xRows, const float* __restrict__ dy, int ldy,
    float* __restrict__ gw)
{
    __shared__ float dys[TILE_ROWS][TILE_COLS + 1];
    __shared__ float xs[SLICE_ROWS][TILE_COLS + 1];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int rBlock = blockIdx.x * TILE_ROWS;
    int first[4], end[4];
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int r = rBlock + warp * 4 + j;
        first[j] = r < rows ? ptr[r] : 0;
        end[j] = r < rows ? ptr[r + 1] : 0;
    }
    for (int b0 = 0; b0 < batch; b0 += TILE_COLS) {
        const int b = b0 + lane;
        __syncthreads();  // the previous chunk's tiles are no longer read
#pragma unroll
        for (int l = 0; l < TILE_ROWS / 8; l++) {
            const int rr = warp + 8 * l, r = rBlock + rr;
            dys[rr][lane] = (r < rows && b < batch) ? dy[(size_t)r * ldy + b] : 0.f;
        }
        int cur[4];
#pragma unroll
        for (int j = 0; j < 4; j++) cur[j] = first[j];
        for (int k0 = 0; k0 < xRows; k0 += SLICE_ROWS) {
            __syncthreads();
#pragma unroll
            for (int l = 0; l < SLICE_ROWS / 8; l++) {
                const int k = k0 + warp + 8 * l;
                xs[warp + 8 * l][lane] = (k < xRows && b < batch) ? x[(size_t)k * ldx + b] : 0.f;
            }
            __syncthreads();
            const int kEnd = k0 + SLICE_ROWS;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const float* g = dys[warp * 4 + j];
                while (cur[j] < end[j]) {  // uniform across the warp
                    const int e = cur[j] + lane;
                    const int c = e < end[j] ? col[e] : 0x7fffffff;
                    const bool mine = c < kEnd;
                    const int n = __popc(__ballot_sync(FULL_MASK, mine));
                    if (mine) {
                        const float* xr = xs[c - k0];
                        float s = 0.f;
#pragma unroll 8
                        for (int t = 0; t < TILE_COLS; t++) s = fmaf(g[t], xr[t], s);
                        gw[e] = b0 == 0 ? s : gw[e] + s;
                    }
                    cur[j] += n;
                    if (n < 32) break;  // the rest of the row lies in later slices
                }
            }
        }
    }
}
