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
//
// Layout: float32, row-major with leading dimensions in floats. Shapes need not be multiples
// of the tile (64 x 64 x 16): out-of-range loads read 0, out-of-range stores are skipped.
//
// How: 256 threads per block, 64x64 output tile, each thread a 4x4 micro-tile strided by 16
// (rows ty+16i, columns tx+16j) so shared reads are broadcasts (A) or consecutive (B) and
// global stores are coalesced along n. Accumulation in fp32 FMA.
// Checked by CudaKernelParityTest (gpu tag) against ReferenceBackend (double accumulation):
// forward / backwardInput / weightGrad of dense, grouped (index/interleaved/random groupings,
// holes after simulated DST) and correlation (raw/cosine/pearson), odd shapes.

#define GEMM_BM 64
#define GEMM_BN 64
#define GEMM_BK 16
#define GEMM_THREADS 256

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

    // +4 padding keeps the transposing stores of A/B at most 2-way bank conflicted
    __shared__ float As[GEMM_BK][GEMM_BM + 4];
    __shared__ float Bs[GEMM_BK][GEMM_BN + 4];

    const int tid = threadIdx.x;
    const int tx = tid & 15, ty = tid >> 4;
    const int m0 = blockIdx.y * GEMM_BM, n0 = blockIdx.x * GEMM_BN;

    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.f;

    for (int k0 = kBegin; k0 < kEnd; k0 += GEMM_BK) {
        // A tile: 64 x 16 = 1024 values, 4 per thread; consecutive threads walk the
        // contiguous dimension of A (k for row-major A, m for transposed A)
#pragma unroll
        for (int l = 0; l < 4; l++) {
            const int e = tid + l * GEMM_THREADS;
            int mm, kk;
            if (AT) { mm = e % GEMM_BM; kk = e / GEMM_BM; }
            else    { kk = e % GEMM_BK; mm = e / GEMM_BK; }
            const int m = m0 + mm, k = k0 + kk;
            float v = 0.f;
            if (m < M && k < kEnd) {
                if (AT) v = A[(size_t)k * lda + m];
                else    v = A[(size_t)(aIdx ? aIdx[m] : m) * lda + k];
            }
            As[kk][mm] = v;
        }
        // B tile: 16 x 64
#pragma unroll
        for (int l = 0; l < 4; l++) {
            const int e = tid + l * GEMM_THREADS;
            int nn, kk;
            if (BT) { kk = e % GEMM_BK; nn = e / GEMM_BK; }
            else    { nn = e % GEMM_BN; kk = e / GEMM_BN; }
            const int n = n0 + nn, k = k0 + kk;
            float v = 0.f;
            if (n < N && k < kEnd) {
                if (BT) v = B[(size_t)(bIdx ? bIdx[n] : n) * ldb + k];
                else    v = B[(size_t)(bIdx ? bIdx[k] : k) * ldb + n];
            }
            Bs[kk][nn] = v;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < GEMM_BK; kk++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = As[kk][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = Bs[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads(); // the next iteration overwrites As/Bs
    }

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
