// gemm.cu - block-diagonal ("group") GEMMs with gathered rows: the dense part of a G2G layer.
//
// What: C(m, n) = sum_k A(m, k) B(k, n) for a batch of blockIdx.z = 0..Z-1 independent
// problems of equal shape M x N x K (one per group), with rows of A, B and C optionally
// addressed through index lists (the units of a group need not be contiguous: interleaved
// and random groupings scatter them). Three storage forms cover a layer's three products:
//   gemm_nn: A row-major [m][k] (W block),        B rows gathered over k [idx(k)][n],
//            C rows scattered [idx(m)][n]                     -> forward   y = W x
//   gemm_tn: A stored transposed, A(m,k)=A[k*lda+m] (W block), B gathered over k,
//            C scattered                                       -> input grad dx = W^T dy
//   gemm_nt: A rows gathered [idx(m)][k], B(k,n)=B[idx(n)*ldb+k] (both contiguous in k),
//            C row-major                                       -> weight grad dy x^T, and the
//                                                                 activation correlation y x^T
// Per-problem offsets: A += z*sAz, B += z*sBz, C += z*sCz (elements); index lists advance by
// z*sAIz / z*sBIz / z*sCIz. A null index list means identity. With Z = 1 and null lists the
// kernels are the plain dense GEMMs used when cuBLAS is not available.
// Epilogue (gemm_nt only): mode 0 C = acc; mode 1 C = cMask[same index] ? acc : 0 (holes of a
// group block stay 0 in the weight gradient); mode 2 C = acc / (rowScale[m] * colScale[n] + 1e-8)
// (cosine / Pearson normalisation of the correlation scores, norms from row_stats).
// mode bit 4 (any kernel, --precision tf32): A and B are rounded to TF32 as they are loaded and
// multiplied on tensor cores (mma.sync m16n8k8 .tf32, fp32 accumulation). The epilogue is mode & 3.
//
// Layout: float32, row-major with leading dimensions in floats. Shapes need not be multiples
// of the tile (64 x 64 x 16): out-of-range loads read 0, out-of-range stores are skipped.
//
// How: 256 threads per block, 64x64 output tile, each thread a 4x4 micro-tile strided by 16
// (rows ty+16i, columns tx+16j) so shared reads are broadcasts (A) or consecutive (B) and
// global stores are coalesced along n. Accumulation in fp32 FMA. Tiles are loaded as float4
// where the contiguous dimension is 16-byte aligned, and double-buffered (gemm_accumulate).
// TF32: the same tiles, the products as mma.sync.m16n8k8 by the 8 warps (each 32 x 16 of the
// tile), the finished tile handed back in the per-thread layout above (gemm_mainloop). Why
// inline PTX mma rather than nvcuda::wmma (precision::tf32, m16n16k8): wmma's fragment layout is
// unspecified, so an emulator could only model load/mma/store as opaque whole-warp copies and
// would check nothing of ours; mma.sync's per-lane layout is specified by the PTX ISA, so the
// kernel reads its fragments straight from the shared tiles (no extra staging for wmma's
// load_matrix_sync) and the emulator, modelling that table, checks our indexing
// (common.cuh mma_tf32_m16n8k8, native/emu/cuda_emu.h).
// Checked by CudaKernelParityTest (gpu tag) against ReferenceBackend (double accumulation):
// forward / backwardInput / weightGrad of dense, grouped (index/interleaved/random groupings,
// holes after simulated DST) and correlation (raw/cosine/pearson), odd shapes.

#define GEMM_BM 64
#define GEMM_BN 64
#define GEMM_BK 16
#define GEMM_THREADS 256

// Shared tiles of one GEMM block, double-buffered: the next k tile is loaded (global -> registers)
// while the current one is multiplied, then stored into the other buffer, so one barrier per k
// tile suffices. +4 padding keeps the transposing stores at most 2-way bank conflicted.
// c: the finished 64 x 64 tile of the tensor-core path on its way from the mma fragment layout
// to the CUDA-core layout (gemm_accumulate), in the same bytes once the tiles are no longer read.
union GemmSmem {
    struct {
        float a[2][GEMM_BK][GEMM_BM + 4];
        float b[2][GEMM_BK][GEMM_BN + 4];
    } t;
    float c[GEMM_BM][GEMM_BN + 4];
};

// This thread's 4 elements of an operand tile (64 x 16, rows of the 64 side from r0, k from k0),
// as one float4 when vec (the contiguous dimension 16-byte aligned: checked per launch by the
// caller) and the 4 values are in range, else as 4 scalar loads; out of range reads 0.
//   KCONTIG: element (r, k) at P[idx(r) * ld + k]  (A row-major, B^T): thread -> r0 + tid/4, k0 + 4*(tid%4)
//   else:    element (r, k) at P[idx(k) * ld + r]  (A^T, B row-major): thread -> k0 + tid/16, r0 + 4*(tid%16)
template <bool KCONTIG>
__device__ __forceinline__ void gemm_load_fp32(float (&v)[4], bool vec, int R, int r0, int k0, int kEnd,
                                               const float* __restrict__ P, int ld, const int* __restrict__ idx)
{
    const int tid = threadIdx.x;
    if (KCONTIG) {
        const int r = r0 + (tid >> 2), k = k0 + (tid & 3) * 4;
        if (r >= R) { v[0] = v[1] = v[2] = v[3] = 0.f; return; }
        const float* p = P + (size_t)(idx ? idx[r] : r) * ld + k;
        if (vec && k + 3 < kEnd) {
            const float4 q = *reinterpret_cast<const float4*>(p);
            v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
        } else {
#pragma unroll
            for (int t = 0; t < 4; t++) v[t] = k + t < kEnd ? p[t] : 0.f;
        }
    } else {
        const int k = k0 + (tid >> 4), r = r0 + (tid & 15) * 4;
        if (k >= kEnd) { v[0] = v[1] = v[2] = v[3] = 0.f; return; }
        const float* p = P + (size_t)(idx ? idx[k] : k) * ld + r;
        if (vec && r + 3 < R) {
            const float4 q = *reinterpret_cast<const float4*>(p);
            v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
        } else {
#pragma unroll
            for (int t = 0; t < 4; t++) v[t] = r + t < R ? p[t] : 0.f;
        }
    }
}

// gemm_load_fp32, then (tf32) each value rounded to TF32.
template <bool KCONTIG>
__device__ __forceinline__ void gemm_load(float (&v)[4], bool vec, bool tf32, int R, int r0, int k0, int kEnd,
                                          const float* __restrict__ P, int ld, const int* __restrict__ idx)
{
    gemm_load_fp32<KCONTIG>(v, vec, R, r0, k0, kEnd, P, ld, idx);
    if (tf32) {
#pragma unroll
        for (int t = 0; t < 4; t++) v[t] = tf32_round(v[t]);
    }
}

// Stores what gemm_load loaded into a [k][r] shared tile.
template <bool KCONTIG>
__device__ __forceinline__ void gemm_store(const float (&v)[4], float (*S)[GEMM_BM + 4])
{
    const int tid = threadIdx.x;
    if (KCONTIG) {
        const int r = tid >> 2, k = (tid & 3) * 4;
#pragma unroll
        for (int t = 0; t < 4; t++) S[k + t][r] = v[t];
    } else {
        const int k = tid >> 4, r = (tid & 15) * 4;
#pragma unroll
        for (int t = 0; t < 4; t++) S[k][r + t] = v[t];
    }
}

// float4 loads need the contiguous dimension's rows 16-byte aligned: base and leading dimension.
__device__ __forceinline__ bool gemm_vec(const float* p, int ld) {
    return ((reinterpret_cast<unsigned long long>(p) & 15ull) == 0) && (ld & 3) == 0;
}

// The main loop of every GEMM tile (gemm_nn/tn/nt here, the fused layer kernels of layer.cu), on
// CUDA cores (fp32 FMA, TC false) or on tensor cores (TF32 mma.sync, TC true); see gemm_accumulate.
template <bool AT, bool BT, bool TC>
__device__ __forceinline__ void gemm_mainloop(
    float (&acc)[4][4], GemmSmem& sm, int M, int N, int m0, int n0, int kBegin, int kEnd,
    const float* __restrict__ A, int lda, const int* __restrict__ aIdx,
    const float* __restrict__ B, int ldb, const int* __restrict__ bIdx)
{
    const int tid = threadIdx.x;
    const int tx = tid & 15, ty = tid >> 4;
    // TC: warp w computes rows wm..wm+31 x columns wn..wn+15 of the tile as 2 x 2 mma tiles of
    // 16 x 8; acc[2*mt + nt] holds the accumulator fragment of tile (mt, nt) (common.cuh's layout).
    const int lane = tid & 31, grp = lane >> 2, tig = lane & 3;
    const int wm = (tid >> 7) * 32, wn = ((tid >> 5) & 3) * 16;
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.f;
    // kBegin is a multiple of 16 (split-K rounds its share), so k quads stay 16-byte aligned
    const bool vecA = gemm_vec(A, lda), vecB = gemm_vec(B, ldb);
    if (AT) aIdx = nullptr;  // a transposed A is never gathered
    float ra[4], rb[4];
    if (kBegin < kEnd) {
        gemm_load<!AT>(ra, vecA, TC, M, m0, kBegin, kEnd, A, lda, aIdx);
        gemm_load<BT>(rb, vecB, TC, N, n0, kBegin, kEnd, B, ldb, bIdx);
        gemm_store<!AT>(ra, sm.t.a[0]);
        gemm_store<BT>(rb, sm.t.b[0]);
    }
    __syncthreads();
    int buf = 0;
    for (int k0 = kBegin; k0 < kEnd; k0 += GEMM_BK) {
        const bool more = k0 + GEMM_BK < kEnd;
        if (more) {  // the next tile's global loads are in flight during the products below
            gemm_load<!AT>(ra, vecA, TC, M, m0, k0 + GEMM_BK, kEnd, A, lda, aIdx);
            gemm_load<BT>(rb, vecB, TC, N, n0, k0 + GEMM_BK, kEnd, B, ldb, bIdx);
        }
        if (TC) {
            // two k8 steps; k beyond kEnd, rows beyond M and columns beyond N were loaded as 0, so
            // they add exact zeros (the epilogue stores only rows < M, columns < N)
#pragma unroll
            for (int kk = 0; kk < GEMM_BK; kk += 8) {
                const float (*sa)[GEMM_BM + 4] = sm.t.a[buf] + kk;  // sa[k][m] = A(m0 + m, k0 + kk + k)
                const float (*sb)[GEMM_BN + 4] = sm.t.b[buf] + kk;  // sb[k][n] = B(k0 + kk + k, n0 + n)
                unsigned a[2][4], b[2][2];
#pragma unroll
                for (int mt = 0; mt < 2; mt++) {
                    const int r = wm + 16 * mt + grp;
                    a[mt][0] = __float_as_uint(sa[tig][r]);
                    a[mt][1] = __float_as_uint(sa[tig][r + 8]);
                    a[mt][2] = __float_as_uint(sa[tig + 4][r]);
                    a[mt][3] = __float_as_uint(sa[tig + 4][r + 8]);
                }
#pragma unroll
                for (int nt = 0; nt < 2; nt++) {
                    const int c = wn + 8 * nt + grp;
                    b[nt][0] = __float_as_uint(sb[tig][c]);
                    b[nt][1] = __float_as_uint(sb[tig + 4][c]);
                }
#pragma unroll
                for (int mt = 0; mt < 2; mt++)
#pragma unroll
                    for (int nt = 0; nt < 2; nt++) mma_tf32_m16n8k8(acc[2 * mt + nt], a[mt], b[nt]);
            }
        } else {
#pragma unroll
            for (int kk = 0; kk < GEMM_BK; kk++) {
                float a[4], b[4];
#pragma unroll
                for (int i = 0; i < 4; i++) a[i] = sm.t.a[buf][kk][ty + 16 * i];
#pragma unroll
                for (int j = 0; j < 4; j++) b[j] = sm.t.b[buf][kk][tx + 16 * j];
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
            }
        }
        if (more) {  // the other buffer was last read before the previous barrier
            gemm_store<!AT>(ra, sm.t.a[buf ^ 1]);
            gemm_store<BT>(rb, sm.t.b[buf ^ 1]);
        }
        __syncthreads();
        buf ^= 1;
    }
    if (TC) {
        // fragments -> the CUDA-core layout (acc[i][j] at row ty + 16i, column tx + 16j), through the
        // tile's shared memory (free: the loop ended with a barrier), so every epilogue - masks,
        // scaling, split-K atomics, the edges layer.cu streams into the same tile, bias, ReLU -
        // is one code path for both precisions
#pragma unroll
        for (int mt = 0; mt < 2; mt++)
#pragma unroll
            for (int nt = 0; nt < 2; nt++) {
                const int r = wm + 16 * mt + grp, c = wn + 8 * nt + 2 * tig;
                const float* d = acc[2 * mt + nt];
                *reinterpret_cast<float2*>(&sm.c[r][c]) = make_float2(d[0], d[1]);
                *reinterpret_cast<float2*>(&sm.c[r + 8][c]) = make_float2(d[2], d[3]);
            }
        __syncthreads();
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) acc[i][j] = sm.c[ty + 16 * i][tx + 16 * j];
        __syncthreads();
    }
}

// acc[i][j] = sum_{k in [kBegin, kEnd)} A(m0+ty+16i, k) B(k, n0+tx+16j) (ty = tid/16, tx = tid%16).
// A(m,k) = AT ? A[k*lda+m] : A[aIdx(m)*lda+k]; B(k,n) = BT ? B[bIdx(n)*ldb+k] : B[bIdx(k)*ldb+n].
// fp32 (tf32 false): each thread a 4x4 micro-tile by fp32 FMA on CUDA cores, in k order.
// tf32 (--precision tf32): operands rounded to TF32 as they are loaded (cvt.rna), products on
// tensor cores (mma.sync m16n8k8, fp32 accumulation), 8 warps x 2 x 2 mma tiles per k8 step;
// the result comes back in the same per-thread layout as fp32's.
// Ends with a barrier, so the caller may reuse sm afterwards. Every thread of the block calls it.
template <bool AT, bool BT>
__device__ __forceinline__ void gemm_accumulate(
    float (&acc)[4][4], GemmSmem& sm, int M, int N, int m0, int n0, int kBegin, int kEnd,
    const float* __restrict__ A, int lda, const int* __restrict__ aIdx,
    const float* __restrict__ B, int ldb, const int* __restrict__ bIdx, bool tf32)
{
    if (tf32) gemm_mainloop<AT, BT, true>(acc, sm, M, N, m0, n0, kBegin, kEnd, A, lda, aIdx, B, ldb, bIdx);
    else gemm_mainloop<AT, BT, false>(acc, sm, M, N, m0, n0, kBegin, kEnd, A, lda, aIdx, B, ldb, bIdx);
}

template <bool AT, bool BT, bool SPLIT>
__device__ __forceinline__ void gemm_tile(
    int splits, int M, int N, int K,
    const float* __restrict__ A, int lda, long long sAz, const int* __restrict__ aIdx, int sAIz,
    const float* __restrict__ B, int ldb, long long sBz, const int* __restrict__ bIdx, int sBIz,
    float* __restrict__ C, int ldc, long long sCz, const int* __restrict__ cIdx, int sCIz,
    const unsigned char* __restrict__ cMask, const float* __restrict__ rowScale,
    const float* __restrict__ colScale, int mode)
{
    // split-K: blockIdx.z = problem * splits + split; split s sums k in [kBegin, kEnd)
    const int z = SPLIT ? (int)blockIdx.z / splits : (int)blockIdx.z;
    const int s = SPLIT ? (int)blockIdx.z % splits : 0;
    const int kPer = SPLIT ? ((K + splits - 1) / splits + GEMM_BK - 1) / GEMM_BK * GEMM_BK : K;
    const int kBegin = s * kPer, kEnd = min(K, kBegin + kPer);
    A += (size_t)z * sAz;
    B += (size_t)z * sBz;
    C += (size_t)z * sCz;
    if (aIdx) aIdx += (size_t)z * sAIz;
    if (bIdx) bIdx += (size_t)z * sBIz;
    if (cIdx) cIdx += (size_t)z * sCIz;
    if (cMask) cMask += (size_t)z * sCz;

    __shared__ GemmSmem sm;
    const int tid = threadIdx.x;
    const int tx = tid & 15, ty = tid >> 4;
    const int m0 = blockIdx.y * GEMM_BM, n0 = blockIdx.x * GEMM_BN;
    float acc[4][4];
    gemm_accumulate<AT, BT>(acc, sm, M, N, m0, n0, kBegin, kEnd, A, lda, aIdx, B, ldb, bIdx, (mode & 4) != 0);
    mode &= 3;

#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int m = m0 + ty + 16 * i;
        if (m >= M) continue;
        const size_t row = (size_t)(cIdx ? cIdx[m] : m) * ldc;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int n = n0 + tx + 16 * j;
            if (n >= N) continue;
            float v = acc[i][j];
            if (mode == 1) v = cMask[row + n] ? v : 0.f;
            else if (mode == 2) v = v / (rowScale[m] * colScale[n] + 1e-8f);
            if (SPLIT) atomicAdd(&C[row + n], v);  // the epilogues are linear: partial sums add up
            else C[row + n] = v;
        }
    }
}

#define GEMM_PARAMS                                                                           \
    int M, int N, int K,                                                                      \
    const float* __restrict__ A, int lda, long long sAz, const int* __restrict__ aIdx, int sAIz, \
    const float* __restrict__ B, int ldb, long long sBz, const int* __restrict__ bIdx, int sBIz, \
    float* __restrict__ C, int ldc, long long sCz, const int* __restrict__ cIdx, int sCIz,     \
    const unsigned char* __restrict__ cMask, const float* __restrict__ rowScale,              \
    const float* __restrict__ colScale, int mode
#define GEMM_ARGS M, N, K, A, lda, sAz, aIdx, sAIz, B, ldb, sBz, bIdx, sBIz, C, ldc, sCz, cIdx, sCIz, \
    cMask, rowScale, colScale, mode

// grid: (ceil(N/64), ceil(M/64), Z), block: 256
extern "C" __global__ void __launch_bounds__(GEMM_THREADS) gemm_nn(GEMM_PARAMS) { gemm_tile<false, false, false>(1, GEMM_ARGS); }
extern "C" __global__ void __launch_bounds__(GEMM_THREADS) gemm_tn(GEMM_PARAMS) { gemm_tile<true, false, false>(1, GEMM_ARGS); }
extern "C" __global__ void __launch_bounds__(GEMM_THREADS) gemm_nt(GEMM_PARAMS) { gemm_tile<false, true, false>(1, GEMM_ARGS); }

// gemm_nt with the reduction (batch) dimension split over `splits` thread blocks per problem, so
// a weight gradient of few, small group blocks still fills every SM. Each split adds its partial
// result (epilogue applied: modes 0-2 are linear in the sum) into C with atomicAdd: C must be
// zeroed first, and the summation order - hence the last bits - varies from run to run.
// grid: (ceil(N/64), ceil(M/64), Z * splits), block: 256
extern "C" __global__ void __launch_bounds__(GEMM_THREADS) gemm_nt_splitk(GEMM_PARAMS, int splits) {
    gemm_tile<false, true, true>(splits, GEMM_ARGS);
}
