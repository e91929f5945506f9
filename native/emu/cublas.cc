// cublas.cc - fake libcublas.so.13 for g2g's emulated CUDA device: exactly the functions our
// libcublas.so.12 shim (native/cublas12_shim.c) forwards, so the JCublas2 -> shim -> cuBLAS 13
// path of a CUDA 13 host runs here too.
//
// cublasSgemm_v2 follows the cuBLAS documentation: column-major, C = alpha op(A) op(B) + beta C,
// op(A) m x k, op(B) k x n; CUBLAS_STATUS_INVALID_VALUE for m, n, k < 0, an unknown transpose,
// lda < max(1, transa == N ? m : k), ldb < max(1, transb == N ? k : n), ldc < max(1, m).
// alpha and beta are host pointers (the default pointer mode), read at call time; beta == 0
// means C is not read (it may hold NaN). Each operand's extent ((cols - 1) * ld + rows floats)
// must lie in one live device allocation: on a GPU an overrun is an illegal address, here it is
// the same sticky error, reported at the call with the operand named.
// The product runs on the handle's stream (cublasSetStream) in stream order. Accumulation is in
// double, rounded once: results differ from cuBLAS's FMA order in the last bits.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "emu.h"

typedef int cublasStatus_t;
enum { OK = 0, NOT_INITIALIZED = 1, INVALID_VALUE = 7, EXECUTION_FAILED = 13 };

struct Handle { void* stream = nullptr; int math_mode = 0; bool live = true; };

#define API extern "C" EMU_EXPORT

API cublasStatus_t cublasCreate_v2(Handle** h) {
    if (!h) return INVALID_VALUE;
    *h = new Handle;
    return OK;
}

API cublasStatus_t cublasDestroy_v2(Handle* h) {
    if (!h || !h->live) return NOT_INITIALIZED;
    h->live = false;  // kept: queued products may still refer to it
    return OK;
}

API cublasStatus_t cublasGetVersion_v2(Handle* h, int* v) {
    if (!h || !h->live) return NOT_INITIALIZED;
    *v = 130000;
    return OK;
}

API cublasStatus_t cublasSetStream_v2(Handle* h, void* s) {
    if (!h || !h->live) return NOT_INITIALIZED;
    h->stream = s;
    return OK;
}

API cublasStatus_t cublasGetStream_v2(Handle* h, void** s) {
    if (!h || !h->live) return NOT_INITIALIZED;
    *s = h->stream;
    return OK;
}

// CUBLAS_DEFAULT_MATH 0, CUBLAS_PEDANTIC_MATH 2, CUBLAS_TF32_TENSOR_OP_MATH 3 (+ the
// disallow-reduced-precision flag 16). TF32 is emulated: Sgemm rounds A and B to TF32 (10-bit
// mantissa, to nearest, ties away, as cvt.rna.tf32.f32) before its double accumulation, so a
// test of --precision tf32 sees a tensor core's input precision (not its summation order).
API cublasStatus_t cublasSetMathMode(Handle* h, int mode) {
    if (!h || !h->live) return NOT_INITIALIZED;
    int base = mode & ~16;
    if (base != 0 && base != 1 && base != 2 && base != 3) return INVALID_VALUE;
    h->math_mode = mode;
    return OK;
}

static cublasStatus_t invalid(const std::string& msg) {
    fprintf(stderr, "g2g CUDA emulator: cublasSgemm: %s\n", msg.c_str());
    return INVALID_VALUE;
}

API cublasStatus_t cublasSgemm_v2(Handle* h, int ta, int tb, int m, int n, int k, const float* alpha, const float* A, int lda,
                                  const float* B, int ldb, const float* beta, float* C, int ldc) {
    if (!h || !h->live) return NOT_INITIALIZED;
    if (ta < 0 || ta > 2 || tb < 0 || tb > 2) return invalid("unknown transpose " + std::to_string(ta) + "/" + std::to_string(tb));
    if (m < 0 || n < 0 || k < 0) return invalid("negative size m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k));
    const bool tA = ta != 0, tB = tb != 0;
    const int aRows = tA ? k : m, aCols = tA ? m : k, bRows = tB ? n : k, bCols = tB ? k : n;
    if (lda < std::max(1, aRows)) return invalid("lda " + std::to_string(lda) + " < " + std::to_string(std::max(1, aRows)) + " (rows of A as stored)");
    if (ldb < std::max(1, bRows)) return invalid("ldb " + std::to_string(ldb) + " < " + std::to_string(std::max(1, bRows)) + " (rows of B as stored)");
    if (ldc < std::max(1, m)) return invalid("ldc " + std::to_string(ldc) + " < " + std::to_string(std::max(1, m)));
    if (!alpha || !beta) return invalid("alpha/beta null");
    if (m == 0 || n == 0) return OK;
    const float a = *alpha, b = *beta;
    auto extent = [](int rows, int cols, int ld) { return ((size_t)(cols - 1) * ld + rows) * sizeof(float); };
    std::string why;
    const bool readAB = k > 0 && a != 0.f;
    if ((readAB && !emu::check_range(A, extent(aRows, aCols, lda), "cublasSgemm A", &why)) ||
        (readAB && !emu::check_range(B, extent(bRows, bCols, ldb), "cublasSgemm B", &why)) ||
        !emu::check_range(C, extent(m, n, ldc), "cublasSgemm C", &why)) {
        emu::device_error(why);
        return EXECUTION_FAILED;
    }
    const bool tf32 = (h->math_mode & ~16) == 3;
    auto in = [tf32](float v) -> double {
        if (!tf32) return v;
        unsigned u;
        std::memcpy(&u, &v, 4);
        if ((u & 0x7f800000u) == 0x7f800000u) return v;
        u = (u + 0x1000u) & 0xffffe000u;
        std::memcpy(&v, &u, 4);
        return v;
    };
    int r = emu::enqueue(h->stream, "cublasSgemm", [=] {
        std::vector<double> acc(m);
        for (int j = 0; j < n; j++) {
            std::fill(acc.begin(), acc.end(), 0.0);
            if (readAB)
                for (int p = 0; p < k; p++) {
                    const double bv = in(tB ? B[(size_t)p * ldb + j] : B[(size_t)j * ldb + p]);
                    if (tA) for (int i = 0; i < m; i++) acc[i] += in(A[(size_t)i * lda + p]) * bv;
                    else    for (int i = 0; i < m; i++) acc[i] += in(A[(size_t)p * lda + i]) * bv;
                }
            float* c = C + (size_t)j * ldc;
            for (int i = 0; i < m; i++) {
                float v = (float)(a * acc[i]);
                c[i] = b == 0.f ? v : v + b * c[i];
            }
        }
    });
    return r == 0 ? OK : EXECUTION_FAILED;
}
