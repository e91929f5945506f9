// sparse.cu - the inter-group edges of a G2G layer (CSR / CSC) and the small per-layer
// reductions and epilogues around the GEMMs.
//
// What:
//   spmm_rows   dst[r][b] = act((accumulate ? dst[r][b] : 0) + bias[r] + sum_{e in ptr[r]..ptr[r+1])
//               vals[perm ? perm[e] : e] * src[idx[e]][b])  for r < rows, b < batch.
//               Forward: CSR of W (rows = out units, idx = input unit, perm = null, bias, ReLU).
//               Input gradient: CSC of W (rows = in units, idx = output unit, perm = position of
//               the edge in CSR order, so the weights are stored once), no bias, no ReLU.
//   edge_grad   gw[e] = sum_b dy[row[e]][b] * x[col[e]][b] for every CSR edge e: the weight
//               gradient on active edges only (work = edges x batch).
//   row_sum     out[r] = sum_{b<batch} a[r][b]  (bias gradient).
//   bias_act    y[r][b] = act(y[r][b] + bias[r])  (epilogue after cuBLAS / cuSPARSE products).
//   permute_values  dst[j] = src[perm[j]]: edge weights in CSC order (cuSPARSE input gradient).
// Layout: feature-major activations (units x batch, row stride ld); vals points at the edge
// part of a packed weight vector (CSR order). Work scales with the number of active edges.
// How: one warp per row; each lane owns columns b0+lane+32j (j<4), so a warp covers 128 batch
// columns (gridDim.y covers the rest) and every edge streams one coalesced activation row.
// The warp loads 32 edges' (index, weight) at once and broadcasts them with shuffles.
// Checked by CudaKernelParityTest against ReferenceBackend on masks after simulated DST.

#define ROWS_PER_BLOCK 4   // warps per 128-thread block
#define COLS_PER_WARP 128

// grid: (ceil(rows/4), ceil(batch/128)), block: 128
extern "C" __global__ void __launch_bounds__(128) spmm_rows(
    int rows, int batch,
    const int* __restrict__ ptr, const int* __restrict__ idx, const int* __restrict__ perm,
    const float* __restrict__ vals, const float* __restrict__ src, int lds,
    const float* __restrict__ bias, float* __restrict__ dst, int ldd, int accumulate, int relu)
{
    const int r = blockIdx.x * ROWS_PER_BLOCK + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (r >= rows) return; // whole warp leaves together: shuffles below see all 32 lanes
    const int b0 = blockIdx.y * COLS_PER_WARP + lane;

    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    const int e0 = ptr[r], e1 = ptr[r + 1];
    for (int base = e0; base < e1; base += 32) {
        const int e = base + lane;
        int myIdx = 0;
        float myW = 0.f;
        if (e < e1) {
            myIdx = idx[e];
            myW = vals[perm ? perm[e] : e];
        }
        const int cnt = min(32, e1 - base);
        for (int t = 0; t < cnt; t++) {
            const int c = __shfl_sync(FULL_MASK, myIdx, t);
            const float w = __shfl_sync(FULL_MASK, myW, t);
            const float* s = src + (size_t)c * lds;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int b = b0 + 32 * j;
                if (b < batch) acc[j] = fmaf(w, s[b], acc[j]);
            }
        }
    }
    float* d = dst + (size_t)r * ldd;
    const float bv = bias ? bias[r] : 0.f;
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int b = b0 + 32 * j;
        if (b < batch) {
            float v = (accumulate ? d[b] : 0.f) + acc[j] + bv;
            if (relu && v < 0.f) v = 0.f; // not fmaxf: a NaN stays NaN, as in the CPU backend
            d[b] = v;
        }
    }
}

// grid: ceil(edges/8), block: 256 (one warp per edge)
extern "C" __global__ void __launch_bounds__(256) edge_grad(
    int edges, int batch, const int* __restrict__ row, const int* __restrict__ col,
    const float* __restrict__ x, int ldx, const float* __restrict__ dy, int ldy, float* __restrict__ gw)
{
    const int e = (int)(((size_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5);
    const int lane = threadIdx.x & 31;
    if (e >= edges) return;
    const float* g = dy + (size_t)row[e] * ldy;
    const float* a = x + (size_t)col[e] * ldx;
    float s = 0.f;
    for (int b = lane; b < batch; b += 32) s = fmaf(g[b], a[b], s);
    s = warp_sum(s);
    if (lane == 0) gw[e] = s;
}

// grid: ceil(rows/8), block: 256 (one warp per row)
extern "C" __global__ void __launch_bounds__(256) row_sum(
    int rows, int batch, const float* __restrict__ a, int lda, float* __restrict__ out)
{
    const int r = (int)(((size_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5);
    const int lane = threadIdx.x & 31;
    if (r >= rows) return;
    const float* p = a + (size_t)r * lda;
    float s = 0.f;
    for (int b = lane; b < batch; b += 32) s += p[b];
    s = warp_sum(s);
    if (lane == 0) out[r] = s;
}

// grid-stride over rows x batch; block 256
extern "C" __global__ void bias_act(int rows, int batch, float* __restrict__ y, int ldy,
                                    const float* __restrict__ bias, int relu)
{
    const long long n = (long long)rows * batch;
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < n;
         t += (long long)gridDim.x * blockDim.x) {
        const int r = (int)(t / batch), b = (int)(t % batch);
        float* p = y + (size_t)r * ldy + b;
        float v = *p + (bias ? bias[r] : 0.f);
        if (relu && v < 0.f) v = 0.f;
        *p = v;
    }
}

// dst[j] = src[perm[j]]: the edge weights in CSC order, so cuSPARSE computes the input gradient
// as a plain (non-transposed) SpMM with W^T held as CSR (colPtr, cscRow, dst) - cuSPARSE does
// not document transposed CSR SpMM on row-major dense operands as supported. Grid-stride, block 256.
extern "C" __global__ void permute_values(int n, const int* __restrict__ perm, const float* __restrict__ src,
                                          float* __restrict__ dst)
{
    for (long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x; j < n;
         j += (long long)gridDim.x * blockDim.x)
        dst[j] = src[perm[j]];
}
