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
//   layer-forward   grouped_forward == gemm_nn + spmm_rows bit for bit, and within fp32 tolerance
//                of a double W x + b; random groupings, holes, odd tiles, no edges, many slices.
//   layer-backward  grouped_backward against row_sum + gemm_nt + edge_grad + gemm_tn + spmm_rows +
//                relu_backward (dx and the block gradients bit for bit) and double sums; split-K,
//                weight gradient alone, empty batch.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
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
    if (gx == 0 || gy == 0 || gz == 0) return;  // nothing to do (an empty batch)
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

// TF32 as cvt.rna.tf32.f32: 10-bit mantissa, round to nearest, ties away from zero.
float tf32(float v) {
    unsigned u;
    std::memcpy(&u, &v, 4);
    if ((u & 0x7f800000u) == 0x7f800000u) return v;
    u = (u + 0x1000u) & 0xffffe000u;
    std::memcpy(&v, &u, 4);
    return v;
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

// --precision tf32 in gemm_nn / gemm_tn / gemm_nt / gemm_nt_splitk (mode bit 4: tensor cores,
// mma.sync m16n8k8): Z problems of M x N over K with gathered rows, in every storage form, against
// a double sum of the TF32-rounded operands (the products are exact, only fp32 accumulation
// differs), and different from the fp32 kernel somewhere (the operands really were rounded).
// Odd M, N, K put the tile edges inside the mma tiles, so a fragment element read from the wrong
// row, column or k lands either on a wrong value or on one of the zeros loaded past the edge.
void gemm_tf32_case(const char* kernel, int M, int N, int K, int Z, int mode, int splits) {
    const std::string kn = kernel;
    const bool nt = kn.rfind("gemm_nt", 0) == 0, tn = kn == "gemm_tn", split = kn == "gemm_nt_splitk";
    // storage (gemm.cu): nn: A[m][k], B[idx(k)][n], C[idx(m)][n]; tn: A[k][m], B[idx(k)][n], C[idx(m)][n];
    // nt: A[idx(m)][k], B[idx(n)][k], C[m][n]
    const int lda = (tn ? M : K) + 3, ldb = (nt ? K : N) + 1, ldc = N + 2;
    const int rowsA = nt ? M * Z + 5 : (tn ? K : M) * Z, rowsB = (nt ? N : K) * Z + 4, rowsC = nt ? M * Z : M * Z + 3;
    std::vector<float> A = randoms((size_t)rowsA * lda), B = randoms((size_t)rowsB * ldb);
    std::vector<int> aIdx(M * Z), bIdx((nt ? N : K) * Z), cIdx(M * Z);
    for (int i = 0; i < (int)aIdx.size(); i++) aIdx[i] = (i * 7 + 3) % rowsA;
    for (int i = 0; i < (int)bIdx.size(); i++) bIdx[i] = (i * 5 + 1) % rowsB;
    for (int i = 0; i < (int)cIdx.size(); i++) cIdx[i] = (i * 13 + 2) % rowsC;  // distinct rows: 13 is prime to rowsC (checked below)
    if (std::set<int>(cIdx.begin(), cIdx.end()).size() != cIdx.size()) die("gemm-tf32", "test setup: C rows not distinct");
    std::vector<unsigned char> mask((size_t)rowsC * ldc);
    for (auto& m : mask) m = rng() % 3 != 0;
    std::vector<float> zero((size_t)rowsC * ldc, 0.f);
    long long sAz = nt ? 0 : (long long)(tn ? K * lda : M * lda), sBz = 0, sCz = nt ? (long long)M * ldc : 0;
    int sAIz = nt ? M : 0, sBIz = nt ? N : K, sCIz = nt ? 0 : M;
    CUdeviceptr dA = upload(A), dB = upload(B), dAI = nt ? upload(aIdx) : 0, dBI = upload(bIdx), dCI = nt ? 0 : upload(cIdx),
                dM = mode == 1 ? upload(mask) : 0, dC32 = upload(zero), dCtf = upload(zero), nul = 0;
    int mode32 = mode, modeTf = mode | 4;
    for (int pass = 0; pass < 2; pass++) {
        CUdeviceptr* dC = pass ? &dCtf : &dC32;
        int* md = pass ? &modeTf : &mode32;
        void* args[] = {&M, &N, &K, &dA, (void*)&lda, &sAz, &dAI, &sAIz, &dB, (void*)&ldb, &sBz, &dBI, &sBIz, dC, (void*)&ldc, &sCz,
                        &dCI, &sCIz, &dM, &nul, &nul, md, &splits};
        launch(kernel, (N + 63) / 64, (M + 63) / 64, Z * (split ? splits : 1), 256, args);
    }
    std::vector<float> C32 = download<float>(dC32, zero.size()), Ctf = download<float>(dCtf, zero.size());
    double worst = 0;
    bool differs = false;
    for (int z = 0; z < Z; z++)
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                double want = 0;
                for (int k = 0; k < K; k++) {
                    const float a = nt ? A[(size_t)aIdx[z * M + m] * lda + k]
                                       : (tn ? A[z * sAz + (size_t)k * lda + m] : A[z * sAz + (size_t)m * lda + k]);
                    const float b = nt ? B[(size_t)bIdx[z * N + n] * ldb + k] : B[(size_t)bIdx[z * K + k] * ldb + n];
                    want += (double)tf32(a) * tf32(b);
                }
                const size_t at = nt ? (size_t)z * M * ldc + (size_t)m * ldc + n : (size_t)cIdx[z * M + m] * ldc + n;
                if (mode == 1 && !mask[at]) want = 0;
                worst = std::max(worst, rel(Ctf[at], want));
                differs |= std::memcmp(&Ctf[at], &C32[at], 4) != 0;
            }
    for (size_t k = 0; k < zero.size(); k++) {  // nothing written outside the problems' C elements
        const bool inside = (int)(k % ldc) < N && (nt ? k / ldc < (size_t)M * Z
                                                      : std::find(cIdx.begin(), cIdx.end(), (int)(k / ldc)) != cIdx.end());
        if (!inside && Ctf[k] != 0.f) die("gemm-tf32", std::string(kernel) + " wrote outside C at " + std::to_string(k));
    }
    const double tol = 4e-6 * std::sqrt((double)K) * 4;
    if (worst > tol) die("gemm-tf32", std::string(kernel) + " " + std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K) +
                                          ": relative error " + std::to_string(worst) + " against the rounded operands' double product");
    if (!differs) die("gemm-tf32", std::string(kernel) + ": tf32 gave the fp32 result bit for bit: operands not rounded");
    printf("  %s %dx%dx%d Z=%d mode %d%s tf32: max rel err %.2e (against rounded operands; differs from fp32)\n", kernel, M, N, K, Z,
           mode, split ? (" splits " + std::to_string(splits)).c_str() : "", worst);
}

// A random GROUPED layer as CudaLayout stores it on the device: G groups of outPer x inPer units (units
// assigned to groups at random), block holes, inter-group edges with density p in CSR order and
// their CSC view (rows ascending within a column, perm = CSR position).
struct Layer {
    int G, outPer, inPer, out, in, edges, blockTotal;
    std::vector<int> outList, inList, rowPtr, col, row, colPtr, cscRow, cscPerm;
    std::vector<unsigned char> blockMask;
    std::vector<float> w;  // blocks (holes 0), then edge values
    double weight(int o, int i) const { return dense[(size_t)o * in + i]; }
    // W(o, i) as --precision tf32 multiplies it: rounded when it lies in a group block, as it is
    double weightTf32(int o, int i) const { return inBlock[(size_t)o * in + i] ? tf32((float)dense[(size_t)o * in + i]) : dense[(size_t)o * in + i]; }
    std::vector<double> dense;
    std::vector<unsigned char> inBlock;  // out x in: 1 where W(o, i) lies in a group block
};
Layer grouped_layer(int G, int outPer, int inPer, double pInter, double holes) {
    Layer L{G, outPer, inPer, G * outPer, G * inPer};
    std::vector<int> go(L.out), gi(L.in);
    for (int o = 0; o < L.out; o++) go[o] = o % G;
    for (int i = 0; i < L.in; i++) gi[i] = i % G;
    std::shuffle(go.begin(), go.end(), rng);
    std::shuffle(gi.begin(), gi.end(), rng);
    for (int g = 0; g < G; g++) {
        for (int o = 0; o < L.out; o++) if (go[o] == g) L.outList.push_back(o);
        for (int i = 0; i < L.in; i++) if (gi[i] == g) L.inList.push_back(i);
    }
    L.blockTotal = G * outPer * inPer;
    L.dense.assign((size_t)L.out * L.in, 0.0);
    L.inBlock.assign((size_t)L.out * L.in, 0);
    std::vector<float> blocks = randoms(L.blockTotal);
    std::bernoulli_distribution hole(holes), keep(pInter);
    L.blockMask.assign(L.blockTotal, 1);
    for (int k = 0; k < L.blockTotal; k++) {
        if (hole(rng)) { L.blockMask[k] = 0; blocks[k] = 0.f; }
        const int g = k / (outPer * inPer), m = k / inPer % outPer, n = k % inPer;
        L.dense[(size_t)L.outList[g * outPer + m] * L.in + L.inList[g * inPer + n]] = blocks[k];
        L.inBlock[(size_t)L.outList[g * outPer + m] * L.in + L.inList[g * inPer + n]] = 1;
    }
    L.rowPtr.push_back(0);
    for (int o = 0; o < L.out; o++) {
        for (int i = 0; i < L.in; i++) if (go[o] != gi[i] && keep(rng)) { L.col.push_back(i); L.row.push_back(o); }
        L.rowPtr.push_back((int)L.col.size());
    }
    L.edges = (int)L.col.size();
    std::vector<float> ev = randoms(L.edges);
    for (int e = 0; e < L.edges; e++) L.dense[(size_t)L.row[e] * L.in + L.col[e]] = ev[e];
    L.colPtr.assign(L.in + 1, 0);
    for (int e = 0; e < L.edges; e++) L.colPtr[L.col[e] + 1]++;
    for (int i = 0; i < L.in; i++) L.colPtr[i + 1] += L.colPtr[i];
    L.cscRow.resize(L.edges);
    L.cscPerm.resize(L.edges);
    std::vector<int> fill(L.colPtr.begin(), L.colPtr.end() - 1);
    for (int e = 0; e < L.edges; e++) {  // CSR order: rows ascend within each column
        const int at = fill[L.col[e]]++;
        L.cscRow[at] = L.row[e];
        L.cscPerm[at] = e;
    }
    L.w = blocks;
    L.w.insert(L.w.end(), ev.begin(), ev.end());
    return L;
}
void same_bits(const char* c, const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
    for (size_t k = 0; k < got.size(); k++)
        if (std::memcmp(&got[k], &want[k], 4))
            die(c, what + " differs at " + std::to_string(k) + ": " + std::to_string(got[k]) + " vs " + std::to_string(want[k]));
}

// grouped_forward against gemm_nn + spmm_rows (bit for bit) and a double-precision W x + b.
// dense: G = 1, no edges, and the fused kernel gets null unit lists and edge arrays (a dense layer).
// tf32: the block products on TF32-rounded operands (edges and bias in fp32): then checked against a
// double sum of the rounded operands, and required to differ from the fp32 result somewhere.
void layer_forward_case(int G, int outPer, int inPer, int batch, double pInter, double holes, int relu, bool dense = false,
                        int useTf32 = 0) {
    Layer L = grouped_layer(G, outPer, inPer, pInter, holes);
    const int ldx = batch + 3, ldy = batch + 2;
    std::vector<float> x = randoms((size_t)L.in * ldx), bias = randoms(L.out), y0 = randoms((size_t)L.out * ldy);
    CUdeviceptr dW = upload(L.w), dOut = upload(L.outList), dIn = upload(L.inList), dPtr = upload(L.rowPtr), dCol = upload(L.col),
                dX = upload(x), dB = upload(bias), dY1 = upload(y0), dY2 = upload(y0), nul = 0, dEv = dW + 4ull * L.blockTotal;
    long long sAz = (long long)outPer * inPer, zero = 0;
    int izero = 0, accumulate = 1;
    void* g[] = {&outPer, &batch, &inPer, &dW, &inPer, &sAz, &nul, &izero, &dX, (void*)&ldx, &zero, &dIn, &inPer,
                 &dY1, (void*)&ldy, &zero, &dOut, &outPer, &nul, &nul, &nul, &izero};
    launch("gemm_nn", (batch + 63) / 64, (outPer + 63) / 64, G, 256, g);
    int out = L.out;
    void* s[] = {&out, &batch, &dPtr, &dCol, &nul, &dEv, &dX, (void*)&ldx, &dB, &dY1, (void*)&ldy, &accumulate, &relu};
    launch("spmm_rows", (out + 3) / 4, (batch + 127) / 128, 1, 128, s);
    CUdeviceptr fOut = dense ? 0 : dOut, fIn = dense ? 0 : dIn, fPtr = dense ? 0 : dPtr, fCol = dense ? 0 : dCol;
    void* f[] = {&G, &outPer, &inPer, &batch, &dW, &fOut, &fIn, &fPtr, &fCol, &dX, (void*)&ldx, &dB, &dY2, (void*)&ldy, &relu, &useTf32,
                 &nul, &nul, &izero, &nul};
    launch("grouped_forward", (batch + 63) / 64, (outPer + 63) / 64, G, 256, f);
    std::vector<float> Y1 = download<float>(dY1, y0.size()), Y2 = download<float>(dY2, y0.size());
    if (!useTf32) same_bits("layer-forward", Y2, Y1, "y (against gemm_nn + spmm_rows)");
    double worst = 0;
    bool differs = false;
    for (int o = 0; o < L.out; o++)
        for (int b = 0; b < ldy; b++) {
            const size_t at = (size_t)o * ldy + b;
            if (b >= batch) {
                if (std::memcmp(&Y2[at], &y0[at], 4)) die("layer-forward", "wrote outside the batch");
                continue;
            }
            double want = bias[o];
            if (!useTf32) {
                for (int i = 0; i < L.in; i++) want += L.weight(o, i) * x[(size_t)i * ldx + b];
            } else {  // block part on rounded operands, edges as they are
                for (int k = 0; k < L.blockTotal; k++) {
                    const int g = k / (outPer * inPer), m = k / inPer % outPer, n = k % inPer;
                    if (L.outList[g * outPer + m] == o) want += (double)tf32(L.w[k]) * tf32(x[(size_t)L.inList[g * inPer + n] * ldx + b]);
                }
                for (int e = L.rowPtr[o]; e < L.rowPtr[o + 1]; e++) want += (double)L.w[L.blockTotal + e] * x[(size_t)L.col[e] * ldx + b];
                differs |= std::memcmp(&Y2[at], &Y1[at], 4) != 0;
            }
            if (relu && want < 0) want = 0;
            worst = std::max(worst, rel(Y2[at], want));
        }
    const double tol = 4e-6 * std::sqrt((double)L.in) * 4;
    if (worst > tol) die("layer-forward", "relative error " + std::to_string(worst) + " against the double product");
    if (useTf32 && !differs) die("layer-forward", "tf32 gave the fp32 result bit for bit: operands not rounded");
    printf("  grouped_forward G=%d %dx%d batch %d edges %d relu %d%s: max rel err %.2e\n", G, L.out, L.in, batch, L.edges,
           relu, useTf32 ? " tf32 (against rounded operands; differs from fp32)" : ", bit-identical to gemm_nn + spmm_rows", worst);
}

// The output head with its loss in one launch (grouped_forward with labels) against grouped_forward
// + softmax_xent: logits and dz bit for bit, the loss sum and correct count within fp32 tolerance
// (stats are added per 64 columns instead of per 256); a label out of range gives a NaN loss.
void head_loss_case(int classes, int inPer, int batch, int ldz, bool withDz, bool badLabel) {
    Layer L = grouped_layer(1, classes, inPer, 0.0, 0.0);
    const int ldx = batch + 3, ldy = batch + 2, lddz = batch + ldz;
    std::vector<float> x = randoms((size_t)inPer * ldx), bias = randoms(classes), y0 = randoms((size_t)classes * ldy),
                       dz0 = randoms((size_t)classes * lddz), st0(2, 0.f);
    for (float& v : x) v *= 3.f;  // logits spread enough that the argmax is not a tie
    std::vector<int> labels(batch);
    for (int& l : labels) l = (int)(rng() % classes);
    if (badLabel && batch > 3) labels[3] = classes;
    CUdeviceptr dW = upload(L.w), dX = upload(x), dB = upload(bias), dY1 = upload(y0), dY2 = upload(y0), dL = upload(labels),
                dZ1 = upload(dz0), dZ2 = upload(dz0), dS1 = upload(st0), dS2 = upload(st0), nul = 0;
    int G = 1, relu = 0, izero = 0, outPer = classes;
    CUdeviceptr z1 = withDz ? dZ1 : 0, z2 = withDz ? dZ2 : 0;
    void* f[] = {&G, &outPer, &inPer, &batch, &dW, &nul, &nul, &nul, &nul, &dX, (void*)&ldx, &dB, &dY1, (void*)&ldy, &relu, &izero,
                 &nul, &nul, &izero, &nul};
    launch("grouped_forward", (batch + 63) / 64, 1, 1, 256, f);
    void* sx[] = {&classes, &batch, &dY1, (void*)&ldy, &dL, &z1, (void*)&lddz, &dS1};
    launch("softmax_xent", (batch + 255) / 256, 1, 1, 256, sx);
    void* fl[] = {&G, &outPer, &inPer, &batch, &dW, &nul, &nul, &nul, &nul, &dX, (void*)&ldx, &dB, &dY2, (void*)&ldy, &relu, &izero,
                  &dL, &z2, (void*)&lddz, &dS2};
    launch("grouped_forward", (batch + 63) / 64, 1, 1, 256, fl);
    std::vector<float> Y1 = download<float>(dY1, y0.size()), Y2 = download<float>(dY2, y0.size()), Z1 = download<float>(dZ1, dz0.size()),
                       Z2 = download<float>(dZ2, dz0.size()), S1 = download<float>(dS1, 2), S2 = download<float>(dS2, 2);
    same_bits("head-loss", Y2, Y1, "logits (against grouped_forward)");
    same_bits("head-loss", Z2, Z1, withDz ? "dz (against softmax_xent)" : "dz (not asked for: untouched)");
    // an independent double reference of the statistics
    double loss = 0, correct = 0;
    for (int b = 0; b < batch; b++) {
        double mx = -INFINITY, sum = 0;
        int arg = 0;
        for (int k = 0; k < classes; k++) if (Y1[(size_t)k * ldy + b] > mx) { mx = Y1[(size_t)k * ldy + b]; arg = k; }
        for (int k = 0; k < classes; k++) sum += std::exp(Y1[(size_t)k * ldy + b] - mx);
        if (labels[b] >= classes) { loss = NAN; continue; }
        loss += std::log(sum) + mx - Y1[(size_t)labels[b] * ldy + b];
        correct += arg == labels[b];
    }
    if (badLabel) {
        if (!std::isnan(S2[0])) die("head-loss", "a label out of range did not give a NaN loss");
    } else if (rel(S2[0], loss) > 1e-5 || rel(S1[0], loss) > 1e-5) {
        die("head-loss", "loss sum " + std::to_string(S2[0]) + " (softmax_xent " + std::to_string(S1[0]) + "), double " + std::to_string(loss));
    }
    if (S2[1] != correct || S1[1] != correct) die("head-loss", "correct " + std::to_string(S2[1]) + ", want " + std::to_string(correct));
    printf("  head %d classes x %d inputs batch %d dz %d%s: logits%s bit-identical, loss %.6g (softmax_xent %.6g, double %.6g), correct %g\n",
           classes, inPer, batch, (int)withDz, badLabel ? " (a label out of range: NaN loss)" : "", withDz ? " and dz" : "", S2[0], S1[0],
           loss, S2[1]);
}

// grouped_backward (one launch) against row_sum + gemm_nt + edge_grad + gemm_tn + spmm_rows +
// relu_backward, and against double-precision sums: dx and (splits 1) the block gradients bit for
// bit, edge and bias gradients within fp32 tolerance (other summation orders).
// useTf32: the block products on tensor cores (gemm_nt / gemm_tn with mode bit 4 as the kernels
// replaced, still bit for bit), the double sums on TF32-rounded block operands.
void layer_backward_case(int G, int outPer, int inPer, int batch, double pInter, double holes, int splits, int withDx, bool dense = false,
                         int useTf32 = 0) {
    Layer L = grouped_layer(G, outPer, inPer, pInter, holes);
    const int ldx = batch + 1, ldy = batch + 4, lddx = batch + 2;
    std::vector<float> x = randoms((size_t)L.in * ldx), dy = randoms((size_t)L.out * ldy), dx0 = randoms((size_t)L.in * lddx);
    for (size_t k = 0; k < x.size(); k += 7) x[k] = 0.f;  // ReLU outputs are often exactly 0
    const size_t packed = L.w.size();
    std::vector<float> poison(packed, NAN), zeros(packed, 0.f), gbPoison(L.out, NAN);
    CUdeviceptr dW = upload(L.w), dOut = upload(L.outList), dIn = upload(L.inList), dPtr = upload(L.rowPtr), dCol = upload(L.col),
                dRow = upload(L.row), dCP = upload(L.colPtr), dCR = upload(L.cscRow), dCPerm = upload(L.cscPerm),
                dMask = holes > 0 ? upload(L.blockMask) : 0, dX = upload(x), dDy = upload(dy), gw1 = upload(poison),
                gw2 = upload(splits > 1 ? zeros : poison), gb1 = upload(gbPoison), gb2 = upload(gbPoison), dx1 = upload(dx0),
                dx2 = upload(dx0), nul = 0;
    int out = L.out, in = L.in, izero = 0, one = 1, mode = (holes > 0 ? 1 : 0) | (useTf32 ? 4 : 0), edges = L.edges, reluX = 1,
        tnMode = useTf32 ? 4 : 0;
    long long sW = (long long)outPer * inPer, zero = 0;
    // the kernels grouped_backward replaces
    void* rs[] = {&out, &batch, &dDy, (void*)&ldy, &gb1};
    launch("row_sum", (out + 7) / 8, 1, 1, 256, rs);
    void* nt[] = {&outPer, &inPer, &batch, &dDy, (void*)&ldy, &zero, &dOut, &outPer, &dX, (void*)&ldx, &zero, &dIn, &inPer,
                  &gw1, &inPer, &sW, &nul, &izero, &dMask, &nul, &nul, &mode};
    launch("gemm_nt", (inPer + 63) / 64, (outPer + 63) / 64, G, 256, nt);
    CUdeviceptr ge1 = gw1 + 4ull * L.blockTotal, dEv = dW + 4ull * L.blockTotal;
    void* eg[] = {&edges, &batch, &dRow, &dCol, &dX, (void*)&ldx, &dDy, (void*)&ldy, &ge1};
    if (edges > 0) launch("edge_grad", (edges + 7) / 8, 1, 1, 256, eg);
    void* tn[] = {&inPer, &batch, &outPer, &dW, &inPer, &sW, &nul, &izero, &dDy, (void*)&ldy, &zero, &dOut, &outPer,
                  &dx1, (void*)&lddx, &zero, &dIn, &inPer, &nul, &nul, &nul, &tnMode};
    launch("gemm_tn", (batch + 63) / 64, (inPer + 63) / 64, G, 256, tn);
    void* sp[] = {&in, &batch, &dCP, &dCR, &dCPerm, &dEv, &dDy, (void*)&ldy, &nul, &dx1, (void*)&lddx, &one, &izero};
    launch("spmm_rows", (in + 3) / 4, (batch + 127) / 128, 1, 128, sp);
    void* rb[] = {&in, &batch, &dX, (void*)&ldx, &dx1, (void*)&lddx};
    launch("relu_backward", 64, 1, 1, 256, rb);
    // the fused launch
    CUdeviceptr dxArg = withDx ? dx2 : 0;
    CUdeviceptr fOut = dense ? 0 : dOut, fIn = dense ? 0 : dIn, fPtr = dense ? 0 : dPtr, fCol = dense ? 0 : dCol, fCP = dense ? 0 : dCP,
                fCR = dense ? 0 : dCR, fCPerm = dense ? 0 : dCPerm;
    void* gbk[] = {&G, &outPer, &inPer, &batch, &splits, &dW, &fOut, &fIn, &fPtr, &fCol, &fCP, &fCR, &fCPerm, &dX, (void*)&ldx,
                   &dDy, (void*)&ldy, &gw2, &gb2, &dMask, &dxArg, (void*)&lddx, &reluX, &useTf32};
    const int blocks = G * ((outPer + 63) / 64) * ((inPer + 63) / 64) * splits + (out + 31) / 32 +
                       (withDx ? G * ((inPer + 63) / 64) * ((batch + 63) / 64) : 0);
    launch("grouped_backward", blocks, 1, 1, 256, gbk);
    std::vector<float> GW1 = download<float>(gw1, packed), GW2 = download<float>(gw2, packed), GB2 = download<float>(gb2, out),
                       DX1 = download<float>(dx1, dx0.size()), DX2 = download<float>(dx2, dx0.size());
    if (withDx) same_bits("layer-backward", DX2, DX1, "dx (against gemm_tn + spmm_rows + relu_backward)");
    else same_bits("layer-backward", DX2, dx0, "dx (not asked for)");
    if (splits == 1)
        same_bits("layer-backward", std::vector<float>(GW2.begin(), GW2.begin() + L.blockTotal),
                  std::vector<float>(GW1.begin(), GW1.begin() + L.blockTotal), "block gradient (against gemm_nt)");
    double worstW = 0, worstB = 0, worstX = 0;
    for (int k = 0; k < L.blockTotal; k++) {
        const int g = k / (outPer * inPer), m = k / inPer % outPer, n = k % inPer;
        const int o = L.outList[g * outPer + m], i = L.inList[g * inPer + n];
        double want = 0;
        if (L.blockMask[k])
            for (int b = 0; b < batch; b++)
                want += useTf32 ? (double)tf32(dy[(size_t)o * ldy + b]) * tf32(x[(size_t)i * ldx + b])
                                : (double)dy[(size_t)o * ldy + b] * x[(size_t)i * ldx + b];
        worstW = std::max(worstW, rel(GW2[k], want));
    }
    for (int e = 0; e < L.edges; e++) {
        double want = 0;
        for (int b = 0; b < batch; b++) want += (double)dy[(size_t)L.row[e] * ldy + b] * x[(size_t)L.col[e] * ldx + b];
        worstW = std::max(worstW, rel(GW2[L.blockTotal + e], want));
    }
    for (int o = 0; o < L.out; o++) {
        double want = 0;
        for (int b = 0; b < batch; b++) want += dy[(size_t)o * ldy + b];
        worstB = std::max(worstB, rel(GB2[o], want));
    }
    for (int i = 0; i < L.in && withDx; i++)
        for (int b = 0; b < batch; b++) {
            double want = 0;
            for (int o = 0; o < L.out; o++)
                want += useTf32 && L.inBlock[(size_t)o * L.in + i] ? L.weightTf32(o, i) * tf32(dy[(size_t)o * ldy + b])
                                                                   : L.weight(o, i) * dy[(size_t)o * ldy + b];
            if (x[(size_t)i * ldx + b] <= 0) want = 0;
            worstX = std::max(worstX, rel(DX2[(size_t)i * lddx + b], want));
        }
    const double tolK = 4e-6 * std::sqrt((double)std::max(1, batch)) * 4, tolX = 4e-6 * std::sqrt((double)L.out) * 4;
    if (worstW > tolK || worstB > tolK || worstX > tolX)
        die("layer-backward", "relative errors: weights " + std::to_string(worstW) + ", bias " + std::to_string(worstB) +
                                  ", input " + std::to_string(worstX));
    printf("  grouped_backward G=%d %dx%d batch %d edges %d splits %d dx %d%s: max rel err weights %.2e bias %.2e input %.2e\n", G,
           L.out, L.in, batch, L.edges, splits, withDx, useTf32 ? " tf32 (against rounded block operands)" : "", worstW, worstB, worstX);
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
    const char image[] = "G2GEMU1\nspmm_rows\0spmm_tiled\0edge_grad\0edge_grad_tiled\0gemm_nt\0gemm_nt_splitk\0gemm_nn\0gemm_tn\0"
                         "row_sum\0relu_backward\0grouped_forward\0grouped_backward\0softmax_xent\0";
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
    } else if (c == "gemm-tf32") {
        for (const char* k : {"gemm_nn", "gemm_tn", "gemm_nt"}) {
            gemm_tf32_case(k, 70, 50, 300, 3, 0, 1);  // 2 x 1 tiles, partial in m and n, 19 k tiles (last partial)
            gemm_tf32_case(k, 37, 83, 29, 2, 0, 1);   // edges inside every mma tile, k tail of 13
            gemm_tf32_case(k, 5, 3, 7, 1, 0, 1);      // smaller than one mma tile
        }
        gemm_tf32_case("gemm_nt", 70, 50, 300, 3, 1, 1);  // hole mask epilogue
        for (int splits : {3, 7}) gemm_tf32_case("gemm_nt_splitk", 70, 50, 300, 3, 1, splits);
    } else if (c == "layer-forward") {
        layer_forward_case(8, 128, 64, 96, 0.15, 0.0, 1);   // full blocks, 2 column tiles (one partial)
        layer_forward_case(3, 70, 45, 33, 0.2, 0.3, 0);    // odd tiles, holes, no ReLU
        layer_forward_case(4, 16, 40, 7, 0.0, 0.1, 1);     // no inter-group edge at all
        layer_forward_case(2, 33, 80, 130, 0.05, 0.0, 1);  // 5 slices of x, 3 column tiles
        layer_forward_case(1, 10, 150, 70, 0.0, 0.0, 0, true);  // a dense head: null lists, no edges
        layer_forward_case(1, 32, 49, 300, 0.0, 0.0, 1, true);  // the patch encoder's shape
        layer_forward_case(3, 70, 45, 33, 0.2, 0.3, 0, false, 1);  // --precision tf32
        layer_forward_case(1, 10, 150, 70, 0.0, 0.0, 0, true, 1);
    } else if (c == "head-loss") {
        head_loss_case(10, 150, 300, 3, true, false);   // the MNIST head: 5 column blocks (last partial) vs 2 of softmax_xent
        head_loss_case(10, 64, 64, 0, false, false);    // evaluation: no dz
        head_loss_case(64, 33, 70, 1, true, false);     // a full tile of classes
        head_loss_case(3, 20, 7, 2, true, true);        // a label out of range
    } else if (c == "layer-backward") {
        layer_backward_case(8, 128, 64, 96, 0.15, 0.0, 1, 1);
        layer_backward_case(3, 70, 45, 33, 0.2, 0.3, 1, 1);
        layer_backward_case(3, 70, 45, 200, 0.2, 0.3, 3, 1);  // split-K over the batch into a zeroed gw
        layer_backward_case(4, 16, 40, 7, 0.0, 0.1, 2, 0);    // no edges, weight gradient only
        layer_backward_case(2, 33, 80, 0, 0.1, 0.0, 1, 1);    // empty batch: zero gradients
        layer_backward_case(1, 10, 150, 70, 0.0, 0.0, 1, 1, true);   // a dense head: null lists, no edges
        layer_backward_case(1, 32, 49, 1100, 0.0, 0.0, 2, 0, true);  // the encoder's weight gradient, split-K
        layer_backward_case(3, 70, 45, 33, 0.2, 0.3, 1, 1, false, 1);   // --precision tf32: odd tiles, holes
        layer_backward_case(3, 70, 45, 200, 0.2, 0.3, 3, 1, false, 1);  // tf32 with split-K
        layer_backward_case(1, 10, 150, 70, 0.0, 0.0, 1, 1, true, 1);   // tf32 dense head
    } else {
        die(c, "unknown case");
    }
    printf("PASS %s\n", c.c_str());
    return 0;
}
