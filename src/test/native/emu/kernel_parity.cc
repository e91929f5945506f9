// kernel_parity.cc - kernel-parity CASE: issue 12's kernels against a plain C++ reference and
// against the kernels they replace, on random data with odd shapes, run on g2g's emulated CUDA
// device through the driver API (so launch arguments are checked as in the backend).
// Prints "PASS <case>: ..." and exits 0, or "FAIL <case>: ..." and exits 1. Run by
// EmulatorSelfTest (JUnit) in every CI run.
//   spmm-tiled   spmm_tiled == spmm_rows bit for bit (same edge order, both fmaf), and within
//                1e-5 relative of a double-precision sum; CSR form (bias, ReLU) and CSC form
//                (perm, accumulate), 3 shared-memory slices, a partial column tile.
//   edge-grad-tiled  edge_grad_tiled against edge_grad and a double reference (fp32 tolerance),
//                several slices and batch chunks, a partial chunk, no edges.
//   gemm-splitk  gemm_nt_splitk (splits 1, 3, 7) against gemm_nt and a double reference, modes
//                0 (plain), 1 (hole mask) and 2 (norm scaling), 3 problems with index lists.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef void* H;
extern "C" {
CUresult cuInit(unsigned);
CUresult cuDeviceGet(int*, int);
CUresult cuDevicePrimaryCtxRetain(H*, int);
CUresult cuCtxSetCurrent(H);
CUresult cuMemAlloc_v2(CUdeviceptr*, size_t);
CUresult cuMemcpyHtoD_v2(CUdeviceptr, const void*, size_t);
CUresult cuMemcpyDtoH_v2(void*, CUdeviceptr, size_t);
CUresult cuModuleLoadData(H*, const void*);
CUresult cuModuleGetFunction(H*, H, const char*);
CUresult cuLaunchKernel(H, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, H, void**, void**);
CUresult cuCtxSynchronize();
CUresult cuGetErrorString(CUresult, const char**);
}

namespace {
H g_mod;
std::mt19937 rng(12);

std::string why(CUresult r) {
    const char* s = nullptr;
    cuGetErrorString(r, &s);
    return s ? s : "?";
}
void die(const std::string& c, const std::string& m) {
    printf("FAIL %s: %s\n", c.c_str(), m.c_str());
    exit(1);
}
template <typename T> CUdeviceptr upload(const std::vector<T>& v) {
    CUdeviceptr p;
    if (cuMemAlloc_v2(&p, std::max<size_t>(1, v.size()) * sizeof(T))) die("alloc", "cuMemAlloc");
    if (!v.empty()) cuMemcpyHtoD_v2(p, v.data(), v.size() * sizeof(T));
    return p;
}
template <typename T> std::vector<T> download(CUdeviceptr p, size_t n) {
    std::vector<T> v(n);
    CUresult r = cuMemcpyDtoH_v2(v.data(), p, n * sizeof(T));
    if (r) die("download", why(r));
    return v;
}
void launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, void** args) {
    H f = nullptr;
    if (cuModuleGetFunction(&f, g_mod, name)) die(name, "no such kernel");
    CUresult r = cuLaunchKernel(f, gx, gy, gz, bx, 1, 1, 0, nullptr, args, nullptr);
    if (!r) r = cuCtxSynchronize();
    if (r) die(name, why(r));
}
std::vector<float> randoms(size_t n) {
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
}
double rel(double got, double want) { return std::fabs(got - want) / std::max(1.0, std::fabs(want)); }

// One sparse product: a random CSR (rows x srcRows, density p) as itself or through a CSC-like
// permutation, spmm_rows vs spmm_tiled vs double reference.
void spmm_case(int rows, int srcRows, int batch, double p, bool csc, int accumulate, int relu) {
    std::bernoulli_distribution keep(p);
    std::vector<int> ptr{0}, idx;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < srcRows; c++) if (keep(rng)) idx.push_back(c);
        ptr.push_back((int)idx.size());
    }
    const int edges = (int)idx.size();
    std::vector<int> perm;
    if (csc) {  // weights stored elsewhere, in a shuffled order
        for (int e = 0; e < edges; e++) perm.push_back(e);
        std::shuffle(perm.begin(), perm.end(), rng);
    }
    const int lds = batch + 3, ldd = batch + 5;
    std::vector<float> vals = randoms(edges), src = randoms((size_t)srcRows * lds), bias = randoms(rows),
                       dst0 = randoms((size_t)rows * ldd);
    CUdeviceptr dPtr = upload(ptr), dIdx = upload(idx), dPerm = csc ? upload(perm) : 0, dVals = upload(vals), dSrc = upload(src),
                dBias = csc ? 0 : upload(bias), dA = upload(dst0), dB = upload(dst0);
    void* a1[] = {&rows, &batch, &dPtr, &dIdx, &dPerm, &dVals, &dSrc, (void*)&lds, &dBias, &dA, (void*)&ldd, &accumulate, &relu};
    launch("spmm_rows", (rows + 3) / 4, (batch + 127) / 128, 1, 128, a1);
    void* a2[] = {&rows, &batch, &dPtr, &dIdx, &dPerm, &dVals, &dSrc, (void*)&lds, &srcRows, &dBias, &dB, (void*)&ldd, &accumulate, &relu};
    launch("spmm_tiled", (rows + 31) / 32, (batch + 31) / 32, 1, 256, a2);
    std::vector<float> A = download<float>(dA, dst0.size()), B = download<float>(dB, dst0.size());
    double worst = 0;
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < ldd; b++) {
            size_t at = (size_t)r * ldd + b;
            if (b >= batch) {  // outside the batch nothing is written
                if (std::memcmp(&B[at], &dst0[at], 4)) die("spmm-tiled", "wrote outside the batch at row " + std::to_string(r));
                continue;
            }
            double want = (accumulate ? dst0[at] : 0.0) + (csc ? 0.0 : bias[r]);
            for (int e = ptr[r]; e < ptr[r + 1]; e++) want += (double)vals[csc ? perm[e] : e] * src[(size_t)idx[e] * lds + b];
            if (relu && want < 0) want = 0;
            if (std::memcmp(&A[at], &B[at], 4))
                die("spmm-tiled", "row " + std::to_string(r) + " col " + std::to_string(b) + ": tiled " + std::to_string(B[at]) +
                                      " != spmm_rows " + std::to_string(A[at]));
            worst = std::max(worst, rel(B[at], want));
        }
    if (worst > 1e-5) die("spmm-tiled", "relative error " + std::to_string(worst) + " against the double sum");
    printf("  spmm %dx%d batch %d edges %d %s: bit-identical to spmm_rows, max rel err %.2e\n", rows, srcRows, batch, edges,
           csc ? "CSC form" : "CSR form", worst);
}

// The edge weight gradient of a random CSR (rows x xRows): edge_grad_tiled vs edge_grad vs a
// double-precision sum (different summation orders: fp32 tolerance).
void edge_grad_case(int rows, int xRows, int batch, double p) {
    std::bernoulli_distribution keep(p);
    std::vector<int> ptr{0}, col, row;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < xRows; c++) if (keep(rng)) { col.push_back(c); row.push_back(r); }
        ptr.push_back((int)col.size());
    }
    int edges = (int)col.size();
    const int ldx = batch + 1, ldy = batch + 6;
    std::vector<float> x = randoms((size_t)xRows * ldx), dy = randoms((size_t)rows * ldy), poison(std::max(1, edges), NAN);
    CUdeviceptr dPtr = upload(ptr), dCol = upload(col), dRow = upload(row), dX = upload(x), dDy = upload(dy), g1 = upload(poison),
                g2 = upload(poison);
    void* a1[] = {&edges, &batch, &dRow, &dCol, &dX, (void*)&ldx, &dDy, (void*)&ldy, &g1};
    if (edges > 0) launch("edge_grad", (edges + 7) / 8, 1, 1, 256, a1);
    void* a2[] = {&rows, &batch, &dPtr, &dCol, &dX, (void*)&ldx, &xRows, &dDy, (void*)&ldy, &g2};
    launch("edge_grad_tiled", (rows + 31) / 32, 1, 1, 256, a2);
    std::vector<float> G1 = download<float>(g1, poison.size()), G2 = download<float>(g2, poison.size());
    double worst = 0, worstOld = 0;
    for (int e = 0; e < edges; e++) {
        double want = 0;
        for (int b = 0; b < batch; b++) want += (double)dy[(size_t)row[e] * ldy + b] * x[(size_t)col[e] * ldx + b];
        worst = std::max(worst, rel(G2[e], want));
        worstOld = std::max(worstOld, rel(G1[e], want));
        if (std::isnan(G2[e])) die("edge-grad-tiled", "edge " + std::to_string(e) + " not written");
    }
    const double tol = 4e-6 * std::sqrt((double)batch) * 4;
    if (worst > tol) die("edge-grad-tiled", "relative error " + std::to_string(worst) + " (edge_grad: " + std::to_string(worstOld) + ")");
    printf("  edge_grad_tiled %dx%d batch %d edges %d: max rel err %.2e (edge_grad %.2e)\n", rows, xRows, batch, edges, worst, worstOld);
}

// Z group problems C_z (M x N) = A_z(idx) B_z(idx)^T over K, as a weight gradient dY X^T.
void gemm_case(int M, int N, int K, int Z, int mode, int splits) {
    const int lda = K + 2, ldb = K + 1, ldc = N + 3;
    const int rowsA = M * Z + 5, rowsB = N * Z + 4;
    std::vector<float> A = randoms((size_t)rowsA * lda), B = randoms((size_t)rowsB * ldb);
    std::vector<int> aIdx(M * Z), bIdx(N * Z);
    for (int i = 0; i < M * Z; i++) aIdx[i] = (i * 7 + 3) % rowsA;
    for (int i = 0; i < N * Z; i++) bIdx[i] = (i * 5 + 1) % rowsB;
    std::vector<unsigned char> mask((size_t)Z * M * ldc);
    for (auto& m : mask) m = rng() % 3 != 0;
    std::vector<float> rs = randoms(M), cs = randoms(N);
    for (float& x : rs) x = 1.5f + x;
    for (float& x : cs) x = 1.5f + x;
    std::vector<float> zero((size_t)Z * M * ldc, 0.f);
    long long sAz = 0, sBz = 0, sCz = (long long)M * ldc;
    int sAIz = M, sBIz = N, sCIz = 0;
    CUdeviceptr dA = upload(A), dB = upload(B), dAI = upload(aIdx), dBI = upload(bIdx), dM = mode == 1 ? upload(mask) : 0,
                dR = mode == 2 ? upload(rs) : 0, dCs = mode == 2 ? upload(cs) : 0, dC1 = upload(zero), dC2 = upload(zero), nul = 0;
    void* base[] = {&M, &N, &K, &dA, (void*)&lda, &sAz, &dAI, &sAIz, &dB, (void*)&ldb, &sBz, &dBI, &sBIz, &dC1, (void*)&ldc, &sCz, &nul,
                    &sCIz, &dM, &dR, &dCs, &mode};
    launch("gemm_nt", (N + 63) / 64, (M + 63) / 64, Z, 256, base);
    void* split[] = {&M, &N, &K, &dA, (void*)&lda, &sAz, &dAI, &sAIz, &dB, (void*)&ldb, &sBz, &dBI, &sBIz, &dC2, (void*)&ldc, &sCz, &nul,
                     &sCIz, &dM, &dR, &dCs, &mode, &splits};
    launch("gemm_nt_splitk", (N + 63) / 64, (M + 63) / 64, Z * splits, 256, split);
    std::vector<float> C1 = download<float>(dC1, zero.size()), C2 = download<float>(dC2, zero.size());
    double worst = 0, worstBase = 0;
    for (int z = 0; z < Z; z++)
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                double want = 0;
                for (int k = 0; k < K; k++)
                    want += (double)A[(size_t)aIdx[z * M + m] * lda + k] * B[(size_t)bIdx[z * N + n] * ldb + k];
                size_t at = (size_t)z * M * ldc + (size_t)m * ldc + n;
                if (mode == 1 && !mask[at]) want = 0;
                if (mode == 2) want /= (double)rs[m] * cs[n] + 1e-8;
                worst = std::max(worst, rel(C2[at], want));
                worstBase = std::max(worstBase, rel(C1[at], want));
            }
    // split-K sums in a different order than gemm_nt: allow what fp32 accumulation over K allows
    const double tol = 4e-6 * std::sqrt((double)K) * 4;
    if (worst > tol) die("gemm-splitk", "mode " + std::to_string(mode) + " splits " + std::to_string(splits) + ": relative error " +
                                            std::to_string(worst) + " (gemm_nt: " + std::to_string(worstBase) + ")");
    printf("  gemm_nt_splitk %dx%dx%d Z=%d mode %d splits %d: max rel err %.2e (gemm_nt %.2e)\n", M, N, K, Z, mode, splits, worst, worstBase);
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) { fprintf(stderr, "usage: kernel-parity CASE\n"); return 2; }
    std::string c = argv[1];
    int dev;
    H ctx;
    if (cuInit(0)) die(c, "cuInit");
    cuDeviceGet(&dev, 0);
    cuDevicePrimaryCtxRetain(&ctx, dev);
    cuCtxSetCurrent(ctx);
    // an emulation image naming the kernels we launch (the fatbin path is the backend's)
    const char image[] = "G2GEMU1\nspmm_rows\0spmm_tiled\0edge_grad\0edge_grad_tiled\0gemm_nt\0gemm_nt_splitk\0";
    if (CUresult r = cuModuleLoadData(&g_mod, image)) die(c, "module: " + why(r));
    if (c == "spmm-tiled") {
        spmm_case(77, 300, 45, 0.08, false, 0, 1);   // forward form: 3 slices, partial tiles
        spmm_case(130, 64, 33, 0.2, true, 1, 0);     // input-gradient form: perm, accumulate
        spmm_case(5, 1000, 7, 0.01, false, 1, 1);    // long rows, many slices, tiny batch
        spmm_case(40, 129, 32, 0.0, false, 0, 0);    // no edges at all
    } else if (c == "edge-grad-tiled") {
        edge_grad_case(77, 300, 45, 0.08);   // 3 slices, 2 batch chunks (one partial)
        edge_grad_case(130, 64, 256, 0.2);   // 8 full batch chunks
        edge_grad_case(5, 1000, 7, 0.02);    // long rows, many slices, tiny batch
        edge_grad_case(40, 129, 32, 0.0);    // no edges at all
    } else if (c == "gemm-splitk") {
        for (int mode = 0; mode < 3; mode++)
            for (int splits : {1, 3, 7}) gemm_case(70, 50, 300, 3, mode, splits);
        gemm_case(16, 16, 17, 2, 0, 5);  // more splits than 16-wide k tiles: empty splits add nothing
    } else {
        die(c, "unknown case");
    }
    printf("PASS %s\n", c.c_str());
    return 0;
}
