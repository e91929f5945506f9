// layer.cu - a whole G2G (GROUPED) layer per launch: grouped_forward (y = act(W x + b)) and
// grouped_backward (weight, bias and input gradients in one launch), the diagonal group blocks
// as GEMM tiles and the inter-group edges streamed against shared-memory slices of the operand.
//
// What (W in CudaLayout's GROUPED form: G blocks outPer x inPer at w + g*outPer*inPer, units
// through outList/inList, then the inter-group edges in CSR order at w + G*outPer*inPer):
//   grouped_forward   y[r][b] = act((blocks(W) x)[r][b] + (edges(W) x)[r][b] + bias[r]);
//                     with labels (the output head): softmax_xent on y as well (dz, stats)
//   grouped_backward  gw (packed, block holes 0) = dy x^T, gb[r] = sum_b dy[r][b]   when gw != 0
//                     dx[i][b] = (W^T dy)[i][b], times [x[i][b] > 0] when reluX       when dx != 0
// for b < batch; out = G*outPer, in = G*inPer. dy is already through the layer's own ReLU.
// Layout: feature-major activations (units x batch, row stride ld) as everywhere.
// A dense layer is the same with groups = 1, null unit lists (identity) and no edges (null
// rowPtr/colPtr): the backend uses that for small dense layers (the output head, the patch
// encoder), where a bias or ReLU launch of its own would cost more than the product.
//
// How (256 threads per block):
// - grouped_forward: a block owns a 64-unit x 64-column tile of one group's outputs. The block
//   product is gemm_accumulate (gemm.cu: float4 loads, double-buffered tiles); then the tile's
//   inter-group edges are streamed against x held in shared memory, 32 rows x 64 columns at a
//   time (stream_edges): each x element is read from global memory once per tile instead of
//   once per edge (spmm_rows), i.e. ~out/64 times in all rather than ~edges/in times.
// - grouped_backward: one launch holds three kinds of blocks (block-uniform role by blockIdx.x),
//   so the small diagonal-block weight gradient no longer runs alone on a few SMs:
//     [weight tiles]  gemm_nt tiles of the group blocks, the batch split over `splits` blocks
//                     (split-K; splits > 1 adds partial sums with atomicAdd into a zeroed gw);
//     [edge rows]     32 output rows: the edge weight gradient as an SDDMM against dy rows and x
//                     slices in shared memory (as edge_grad_tiled), and the bias gradient of those
//                     rows from the same dy tiles (no separate row_sum launch);
//     [input tiles]   64 input units x 64 columns of one group: gemm_tn tile, then the CSC edges
//                     streamed against dy slices, then the ReLU mask of the layer below (no
//                     separate relu_backward launch).
// tf32 != 0 (--precision tf32): the block products' operands are rounded to TF32 as they are
// loaded (gemm_accumulate); the inter-group edges and the bias stay fp32 (CUDA cores either way).
// Summation order: block products as gemm_nn/tn/nt, each edge sum in edge order from 0 and added
// after the block sum, so grouped_forward and the input gradient are bit-identical to
// gemm_nn/gemm_tn + spmm_rows; edge gradients as edge_grad_tiled; bias sums in 32-column chunks.
// Checked by kernel_parity.cc (cases layer-forward, layer-backward: against the kernels they
// replace and a double-precision loop, odd shapes, holes, several splits) and, through the
// backend, by CudaKernelParityTest and CudaTrainingParityTest, all on the emulated device.

#define LAYER_SLICE 32     // rows of the streamed operand held in shared memory per step
#define EDGE_ROWS 32       // output rows per edge-gradient block
#define EDGE_COLS 32       // batch columns per edge-gradient chunk
#define EDGE_SLICE 64      // x rows per edge-gradient slice

// One block's shared memory; the roles of a launch use it one after another or alone.
// Unit lists may be null (identity: a dense layer).
__device__ __forceinline__ const int* units_of(const int* list, size_t offset) { return list ? list + offset : nullptr; }
__device__ __forceinline__ int unit_at(const int* list, size_t k) { return list ? list[k] : (int)k; }

union LayerSmem {
    GemmSmem gemm;
    float slice[LAYER_SLICE][GEMM_BN];
    struct {
        float dys[EDGE_ROWS][EDGE_COLS + 1];  // +1: lanes reading different rows hit different banks
        float xs[EDGE_SLICE][EDGE_COLS + 1];
    } sddmm;
};

// eacc[i][j] = sum_{e in ptr[unit_i]..ptr[unit_i+1]) vals[perm ? perm[e] : e] * src[idx[e]][n0+tx+16j]
// for this thread's 4 units (unit_i < 0: none), in edge order from 0. idx ascending within a unit;
// ptr null: no edges.
// The block walks src in LAYER_SLICE-row slices (columns n0..n0+63) held in shared memory and
// every thread consumes its units' edges that fall in the slice. Every thread of the block calls
// it (barriers inside); the slice loads are skipped when no unit of the tile has an edge.
__device__ __forceinline__ void stream_edges(
    float (&eacc)[4][4], LayerSmem& sm, int* anyFlag, const int (&unit)[4], int n0, int batch,
    const int* __restrict__ ptr, const int* __restrict__ idx, const int* __restrict__ perm,
    const float* __restrict__ vals, const float* __restrict__ src, int lds, int srcRows)
{
    const int tid = threadIdx.x, tx = tid & 15;
    int cur[4], end[4];
    bool mine = false;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        cur[i] = ptr && unit[i] >= 0 ? ptr[unit[i]] : 0;
        end[i] = ptr && unit[i] >= 0 ? ptr[unit[i] + 1] : 0;
        mine |= cur[i] < end[i];
#pragma unroll
        for (int j = 0; j < 4; j++) eacc[i][j] = 0.f;
    }
    if (tid == 0) *anyFlag = 0;
    __syncthreads();
    if (mine) *anyFlag = 1;  // benign race: every writer writes 1
    __syncthreads();
    if (!*anyFlag) return;   // block-uniform
    for (int k0 = 0; k0 < srcRows; k0 += LAYER_SLICE) {
        __syncthreads();  // the previous slice (or the GEMM's tiles) is no longer read
#pragma unroll
        for (int l = 0; l < LAYER_SLICE * GEMM_BN / 256; l++) {
            const int e = tid + 256 * l, rr = e / GEMM_BN, cc = e % GEMM_BN;
            const int k = k0 + rr, n = n0 + cc;
            sm.slice[rr][cc] = (k < srcRows && n < batch) ? src[(size_t)k * lds + n] : 0.f;
        }
        __syncthreads();
        const int kEnd = k0 + LAYER_SLICE;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            for (; cur[i] < end[i]; cur[i]++) {
                const int c = idx[cur[i]];
                if (c >= kEnd) break;  // the rest of the unit's edges lie in later slices
                const float w = vals[perm ? perm[cur[i]] : cur[i]];
                const float* s = sm.slice[c - k0];
#pragma unroll
                for (int j = 0; j < 4; j++) eacc[i][j] = fmaf(w, s[tx + 16 * j], eacc[i][j]);
            }
        }
    }
}

// labels != null: the output head with its loss (softmax_xent fused, one launch fewer per step):
// after y is written, each block's 64 columns hold every class (the caller guarantees one group
// of outPer <= 64 rows, no edges, no ReLU), so thread c < 64 takes column n0 + c from the tile in
// shared memory through xent_column (loss.cu: dz and the per-sample loss bit for bit as
// softmax_xent) and the block adds its loss and correct count to stats (per 64 columns instead of
// softmax_xent's 256: the summation order of stats[0] differs, as atomicAdd's order does anyway).
// grid: (ceil(batch/64), ceil(outPer/64), groups), block: 256
extern "C" __global__ void __launch_bounds__(256) grouped_forward(
    int groups, int outPer, int inPer, int batch,
    const float* __restrict__ w, const int* __restrict__ outList, const int* __restrict__ inList,
    const int* __restrict__ rowPtr, const int* __restrict__ col,
    const float* __restrict__ x, int ldx, const float* __restrict__ bias, float* __restrict__ y, int ldy, int relu, int tf32,
    const int* __restrict__ labels, float* __restrict__ dz, int lddz, float* __restrict__ stats)
{
    __shared__ LayerSmem sm;
    __shared__ int anyFlag;
    const int z = blockIdx.z, m0 = blockIdx.y * GEMM_BM, n0 = blockIdx.x * GEMM_BN;
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    const int in = groups * inPer;
    float acc[4][4], eacc[4][4];
    gemm_accumulate<false, false>(acc, sm.gemm, outPer, batch, m0, n0, 0, inPer,
                                  w + (size_t)z * outPer * inPer, inPer, nullptr, x, ldx, units_of(inList, (size_t)z * inPer),
                                  tf32 != 0);
    int unit[4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int m = m0 + ty + 16 * i;
        unit[i] = m < outPer ? unit_at(outList, (size_t)z * outPer + m) : -1;
    }
    stream_edges(eacc, sm, &anyFlag, unit, n0, batch, rowPtr, col, nullptr,
                 w + (size_t)groups * outPer * inPer, x, ldx, in);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        if (unit[i] < 0) continue;
        float* d = y + (size_t)unit[i] * ldy;
        const float bv = bias ? bias[unit[i]] : 0.f;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int n = n0 + tx + 16 * j;
            if (n >= batch) continue;
            float v = acc[i][j] + eacc[i][j] + bv;
            if (relu && v < 0.f) v = 0.f;  // not fmaxf: a NaN stays NaN, as in the CPU backend
            d[n] = v;
            acc[i][j] = v;  // kept for the loss below
        }
    }
    if (!labels) return;  // uniform: every block of the launch
    __syncthreads();      // stream_edges's slices (or the GEMM's tiles) are no longer read
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) sm.gemm.c[ty + 16 * i][tx + 16 * j] = acc[i][j];
    __syncthreads();
    float loss = 0.f, correct = 0.f;
    const int c = threadIdx.x, n = n0 + c;
    if (c < GEMM_BN && n < batch)
        xent_column(outPer, batch, &sm.gemm.c[0][c], GEMM_BN + 4, labels[n], dz ? dz + n : nullptr, lddz, loss, correct);
    xent_block_stats(loss, correct, stats);
}

// The weight-tile role: one 64x64 tile of group z's block gradient over split s of the batch.
__device__ __forceinline__ void backward_weight_tile(
    int t, LayerSmem& sm, int groups, int outPer, int inPer, int batch, int splits,
    const int* __restrict__ outList, const int* __restrict__ inList,
    const float* __restrict__ x, int ldx, const float* __restrict__ dy, int lddy,
    float* __restrict__ gw, const unsigned char* __restrict__ blockMask, bool tf32)
{
    const int tilesN = (inPer + GEMM_BN - 1) / GEMM_BN, tilesM = (outPer + GEMM_BM - 1) / GEMM_BM;
    const int s = t % splits, tile = t / splits;
    const int n0 = (tile % tilesN) * GEMM_BN, m0 = (tile / tilesN % tilesM) * GEMM_BM, z = tile / tilesN / tilesM;
    const int kPer = ((batch + splits - 1) / splits + GEMM_BK - 1) / GEMM_BK * GEMM_BK;
    const int kBegin = s * kPer, kEnd = min(batch, kBegin + kPer);
    float acc[4][4];
    gemm_accumulate<false, true>(acc, sm.gemm, outPer, inPer, m0, n0, kBegin, kEnd,
                                 dy, lddy, units_of(outList, (size_t)z * outPer), x, ldx, units_of(inList, (size_t)z * inPer),
                                 tf32);
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    const size_t base = (size_t)z * outPer * inPer;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int m = m0 + ty + 16 * i;
        if (m >= outPer) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int n = n0 + tx + 16 * j;
            if (n >= inPer) continue;
            const size_t at = base + (size_t)m * inPer + n;
            float v = acc[i][j];
            if (blockMask && !blockMask[at]) v = 0.f;  // holes stay 0
            if (splits > 1) atomicAdd(&gw[at], v);
            else gw[at] = v;
        }
    }
}

// The edge-row role: rows r0..r0+31, their edges' weight gradient (SDDMM) and their bias gradient.
// 8 warps x 4 rows; per 32-column batch chunk the 32 dy rows sit in shared memory, x is walked in
// EDGE_SLICE-row slices, a lane takes one edge and sums its 32 products (as edge_grad_tiled).
__device__ __forceinline__ void backward_edge_rows(
    int r0, LayerSmem& sm, int rows, int batch, const int* __restrict__ ptr, const int* __restrict__ col,
    const float* __restrict__ x, int ldx, int xRows, const float* __restrict__ dy, int lddy,
    float* __restrict__ ge, float* __restrict__ gb)
{
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int first[4], end[4];
    float bsum[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int r = r0 + warp * 4 + j;
        first[j] = ptr && r < rows ? ptr[r] : 0;
        end[j] = ptr && r < rows ? ptr[r + 1] : 0;
        if (batch == 0)  // no chunk below: the gradients are 0
            for (int e = first[j] + lane; e < end[j]; e += 32) ge[e] = 0.f;
    }
    // block-uniform: whether any row of the block has an edge (the x slices are skipped otherwise)
    const int rLast = min(rows, r0 + EDGE_ROWS);
    const bool edges = ptr && r0 < rows && ptr[r0] < ptr[rLast];
    for (int b0 = 0; b0 < batch; b0 += EDGE_COLS) {
        const int b = b0 + lane;
        __syncthreads();  // the previous chunk's tiles are no longer read
#pragma unroll
        for (int l = 0; l < EDGE_ROWS / 8; l++) {
            const int rr = warp + 8 * l, r = r0 + rr;
            sm.sddmm.dys[rr][lane] = (r < rows && b < batch) ? dy[(size_t)r * lddy + b] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const float s = warp_sum(sm.sddmm.dys[warp * 4 + j][lane]);
            bsum[j] += s;
        }
        if (!edges) continue;
        int cur[4];
#pragma unroll
        for (int j = 0; j < 4; j++) cur[j] = first[j];
        for (int k0 = 0; k0 < xRows; k0 += EDGE_SLICE) {
            __syncthreads();
#pragma unroll
            for (int l = 0; l < EDGE_SLICE / 8; l++) {
                const int k = k0 + warp + 8 * l;
                sm.sddmm.xs[warp + 8 * l][lane] = (k < xRows && b < batch) ? x[(size_t)k * ldx + b] : 0.f;
            }
            __syncthreads();
            const int kEnd = k0 + EDGE_SLICE;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const float* g = sm.sddmm.dys[warp * 4 + j];
                while (cur[j] < end[j]) {  // uniform across the warp
                    const int e = cur[j] + lane;
                    const int c = e < end[j] ? col[e] : 0x7fffffff;
                    const bool in = c < kEnd;
                    const int n = __popc(__ballot_sync(FULL_MASK, in));
                    if (in) {
                        const float* xr = sm.sddmm.xs[c - k0];
                        float s = 0.f;
#pragma unroll 8
                        for (int t = 0; t < EDGE_COLS; t++) s = fmaf(g[t], xr[t], s);
                        ge[e] = b0 == 0 ? s : ge[e] + s;
                    }
                    cur[j] += n;
                    if (n < 32) break;  // the rest of the row lies in later slices
                }
            }
        }
    }
    if (lane == 0) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int r = r0 + warp * 4 + j;
            if (r < rows) gb[r] = bsum[j];
        }
    }
}

// The input-tile role: dx for 64 input units of group z x 64 columns.
__device__ __forceinline__ void backward_input_tile(
    int t, LayerSmem& sm, int* anyFlag, int groups, int outPer, int inPer, int batch,
    const float* __restrict__ w, const int* __restrict__ outList, const int* __restrict__ inList,
    const int* __restrict__ colPtr, const int* __restrict__ cscRow, const int* __restrict__ cscPerm,
    const float* __restrict__ x, int ldx, const float* __restrict__ dy, int lddy,
    float* __restrict__ dx, int lddx, int reluX, bool tf32)
{
    const int tilesN = (batch + GEMM_BN - 1) / GEMM_BN, tilesM = (inPer + GEMM_BM - 1) / GEMM_BM;
    const int n0 = (t % tilesN) * GEMM_BN, m0 = (t / tilesN % tilesM) * GEMM_BM, z = t / tilesN / tilesM;
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    float acc[4][4], eacc[4][4];
    gemm_accumulate<true, false>(acc, sm.gemm, inPer, batch, m0, n0, 0, outPer,
                                 w + (size_t)z * outPer * inPer, inPer, nullptr, dy, lddy, units_of(outList, (size_t)z * outPer),
                                 tf32);
    int unit[4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int m = m0 + ty + 16 * i;
        unit[i] = m < inPer ? unit_at(inList, (size_t)z * inPer + m) : -1;
    }
    stream_edges(eacc, sm, anyFlag, unit, n0, batch, colPtr, cscRow, cscPerm,
                 w + (size_t)groups * outPer * inPer, dy, lddy, groups * outPer);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        if (unit[i] < 0) continue;
        float* d = dx + (size_t)unit[i] * lddx;
        const float* a = x + (size_t)unit[i] * ldx;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int n = n0 + tx + 16 * j;
            if (n >= batch) continue;
            float v = acc[i][j] + eacc[i][j] + 0.f;  // + 0.f: spmm_rows' bias-less epilogue, bit for bit
            if (reluX && a[n] <= 0.f) v = 0.f;      // relu_backward's rule
            d[n] = v;
        }
    }
}

// grid: weightTiles + edgeBlocks + inputTiles (1-D; see layer_backward_blocks in the backend):
//   weightTiles = gw ? groups * ceil(outPer/64) * ceil(inPer/64) * splits : 0
//   edgeBlocks  = gw ? ceil(groups*outPer/32) : 0
//   inputTiles  = dx ? groups * ceil(inPer/64) * ceil(batch/64) : 0
// block: 256. splits > 1 needs the block part of gw zeroed first.
extern "C" __global__ void __launch_bounds__(256) grouped_backward(
    int groups, int outPer, int inPer, int batch, int splits,
    const float* __restrict__ w, const int* __restrict__ outList, const int* __restrict__ inList,
    const int* __restrict__ rowPtr, const int* __restrict__ col,
    const int* __restrict__ colPtr, const int* __restrict__ cscRow, const int* __restrict__ cscPerm,
    const float* __restrict__ x, int ldx, const float* __restrict__ dy, int lddy,
    float* __restrict__ gw, float* __restrict__ gb, const unsigned char* __restrict__ blockMask,
    float* __restrict__ dx, int lddx, int reluX, int tf32)
{
    __shared__ LayerSmem sm;
    __shared__ int anyFlag;
    const int out = groups * outPer, in = groups * inPer;
    const int weightTiles = gw ? groups * ((outPer + 63) / 64) * ((inPer + 63) / 64) * splits : 0;
    const int edgeBlocks = gw ? (out + EDGE_ROWS - 1) / EDGE_ROWS : 0;
    int t = blockIdx.x;
    if (t < weightTiles) {
        backward_weight_tile(t, sm, groups, outPer, inPer, batch, splits, outList, inList, x, ldx, dy, lddy, gw, blockMask,
                             tf32 != 0);
        return;
    }
    t -= weightTiles;
    if (t < edgeBlocks) {
        backward_edge_rows(t * EDGE_ROWS, sm, out, batch, rowPtr, col, x, ldx, in, dy, lddy,
                           gw + (size_t)groups * outPer * inPer, gb);
        return;
    }
    t -= edgeBlocks;
    backward_input_tile(t, sm, &anyFlag, groups, outPer, inPer, batch, w, outList, inList, colPtr, cscRow, cscPerm,
                        x, ldx, dy, lddy, dx, lddx, reluX, tf32 != 0);
}
