// cusparse.cc - fake libcusparse.so.12 for g2g's emulated CUDA device: the generic-API calls of
// org.g2g.backend.cuda.SparseLib (handle, stream, CSR and dense-matrix descriptors, SpMM and
// its buffer size). Every other function JCusparse imports is a stub (cusparse_stubs.cc,
// generated) that names itself and returns CUSPARSE_STATUS_NOT_SUPPORTED.
//
// Rules enforced (cuSPARSE documentation of cusparseCreateCsr / cusparseCreateDnMat /
// cusparseSpMM), each failure printed with the offending value:
//  * sizes >= 0; 32-bit indices (CUSPARSE_INDEX_32I), base zero, CUDA_R_32F values;
//  * dense: ld >= cols (row-major) or ld >= rows (column-major); the extent (rows-1)*ld+cols
//    floats (row-major) lies in one live device allocation;
//  * SpMM: op(A) m x k, op(B) k x n, C m x n must agree; B and C in the same order; compute
//    type CUDA_R_32F; the external buffer at least as large as cusparseSpMM_bufferSize said;
//    CSR arrays (rows+1 offsets, nnz indices and values) inside live allocations; offsets
//    non-decreasing from 0 to nnz and column indices in range (checked when the product runs).
//  * opA = TRANSPOSE with row-major dense operands is refused: the documentation does not
//    promise it for CSR (set G2G_EMU_CUSPARSE_TRANSPOSE=1 to allow it here). opB must be
//    NON_TRANSPOSE (all g2g uses; others are not emulated).
// The product runs in stream order on the handle's stream, accumulating in double.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "emu.h"

typedef int cusparseStatus_t;
enum { OK = 0, NOT_INITIALIZED = 1, INVALID_VALUE = 3, EXECUTION_FAILED = 6, NOT_SUPPORTED = 10 };
enum { INDEX_32I = 2, BASE_ZERO = 0, R_32F = 0, ORDER_COL = 1, ORDER_ROW = 2, OP_N = 0, OP_T = 1 };

struct Handle { void* stream = nullptr; bool live = true; };
struct SpMat { int64_t rows, cols, nnz; const int* rowPtr; const int* col; const float* vals; };
struct DnMat { int64_t rows, cols, ld; float* vals; int order; };

#define API extern "C" EMU_EXPORT

static cusparseStatus_t bad(const char* fn, const std::string& msg, cusparseStatus_t s = INVALID_VALUE) {
    fprintf(stderr, "g2g CUDA emulator: %s: %s\n", fn, msg.c_str());
    return s;
}

API cusparseStatus_t cusparseCreate(Handle** h) {
    if (!h) return INVALID_VALUE;
    *h = new Handle;
    return OK;
}

API cusparseStatus_t cusparseDestroy(Handle* h) {
    if (!h || !h->live) return NOT_INITIALIZED;
    h->live = false;  // kept: queued products may refer to it
    return OK;
}

API cusparseStatus_t cusparseSetStream(Handle* h, void* s) {
    if (!h || !h->live) return NOT_INITIALIZED;
    h->stream = s;
    return OK;
}

API cusparseStatus_t cusparseGetVersion(Handle* h, int* v) {
    if (!h || !h->live) return NOT_INITIALIZED;
    *v = 12000;
    return OK;
}

API cusparseStatus_t cusparseCreateCsr(SpMat** out, int64_t rows, int64_t cols, int64_t nnz, void* rowPtr, void* col, void* vals,
                                       int rowType, int colType, int base, int valueType) {
    if (!out) return INVALID_VALUE;
    if (rows < 0 || cols < 0 || nnz < 0) return bad("cusparseCreateCsr", "negative size");
    if (rowType != INDEX_32I || colType != INDEX_32I) return bad("cusparseCreateCsr", "only 32-bit indices are emulated", NOT_SUPPORTED);
    if (base != BASE_ZERO) return bad("cusparseCreateCsr", "only index base zero is emulated", NOT_SUPPORTED);
    if (valueType != R_32F) return bad("cusparseCreateCsr", "only CUDA_R_32F values are emulated", NOT_SUPPORTED);
    if (nnz > rows * cols) return bad("cusparseCreateCsr", "nnz " + std::to_string(nnz) + " > rows x cols");
    *out = new SpMat{rows, cols, nnz, static_cast<const int*>(rowPtr), static_cast<const int*>(col), static_cast<const float*>(vals)};
    return OK;
}

API cusparseStatus_t cusparseCreateConstCsr(SpMat** out, int64_t rows, int64_t cols, int64_t nnz, const void* rowPtr, const void* col,
                                            const void* vals, int rowType, int colType, int base, int valueType) {
    return cusparseCreateCsr(out, rows, cols, nnz, const_cast<void*>(rowPtr), const_cast<void*>(col), const_cast<void*>(vals), rowType,
                             colType, base, valueType);
}

API cusparseStatus_t cusparseDestroySpMat(SpMat* m) {
    if (!m) return INVALID_VALUE;
    delete m;
    return OK;
}

API cusparseStatus_t cusparseCreateDnMat(DnMat** out, int64_t rows, int64_t cols, int64_t ld, void* vals, int valueType, int order) {
    if (!out) return INVALID_VALUE;
    if (rows < 0 || cols < 0) return bad("cusparseCreateDnMat", "negative size");
    if (valueType != R_32F) return bad("cusparseCreateDnMat", "only CUDA_R_32F values are emulated", NOT_SUPPORTED);
    if (order != ORDER_ROW && order != ORDER_COL) return bad("cusparseCreateDnMat", "unknown order " + std::to_string(order));
    int64_t need = order == ORDER_ROW ? cols : rows;
    if (ld < std::max<int64_t>(1, need))
        return bad("cusparseCreateDnMat", "ld " + std::to_string(ld) + " < " + std::to_string(need) + (order == ORDER_ROW ? " (cols, row-major)" : " (rows, column-major)"));
    *out = new DnMat{rows, cols, ld, static_cast<float*>(vals), order};
    return OK;
}

API cusparseStatus_t cusparseCreateConstDnMat(DnMat** out, int64_t rows, int64_t cols, int64_t ld, const void* vals, int valueType,
                                              int order) {
    return cusparseCreateDnMat(out, rows, cols, ld, const_cast<void*>(vals), valueType, order);
}

API cusparseStatus_t cusparseDestroyDnMat(DnMat* m) {
    if (!m) return INVALID_VALUE;
    delete m;
    return OK;
}

namespace {

size_t dense_bytes(const DnMat& d) {
    if (d.rows == 0 || d.cols == 0) return 0;
    return d.order == ORDER_ROW ? ((d.rows - 1) * d.ld + d.cols) * 4 : ((d.cols - 1) * d.ld + d.rows) * 4;
}

// The shared argument rules of SpMM and its buffer size; fills m (rows of C), k, n.
cusparseStatus_t check(const char* fn, Handle* h, int opA, int opB, const void* alpha, const SpMat* A, const DnMat* B, const void* beta,
                       const DnMat* C, int computeType, int64_t* m, int64_t* k, int64_t* n) {
    if (!h || !h->live) return NOT_INITIALIZED;
    if (!alpha || !beta || !A || !B || !C) return bad(fn, "null argument");
    if (opA != OP_N && opA != OP_T) return bad(fn, "opA " + std::to_string(opA) + " not emulated", NOT_SUPPORTED);
    if (opB != OP_N) return bad(fn, "opB other than NON_TRANSPOSE is not emulated", NOT_SUPPORTED);
    if (computeType != R_32F) return bad(fn, "compute type must be CUDA_R_32F for float operands");
    if (B->order != C->order) return bad(fn, "B and C must have the same order (row- or column-major)");
    if (opA == OP_T && B->order == ORDER_ROW) {
        const char* allow = getenv("G2G_EMU_CUSPARSE_TRANSPOSE");
        if (!(allow && *allow == '1'))
            return bad(fn, "opA = TRANSPOSE on a CSR matrix with row-major dense operands is not documented as supported "
                           "(use the CSR of the transpose; G2G_EMU_CUSPARSE_TRANSPOSE=1 allows it here)", NOT_SUPPORTED);
    }
    *m = opA == OP_N ? A->rows : A->cols;
    *k = opA == OP_N ? A->cols : A->rows;
    *n = C->cols;
    if (B->rows != *k || B->cols != *n || C->rows != *m)
        return bad(fn, "shapes disagree: op(A) " + std::to_string(*m) + "x" + std::to_string(*k) + ", B " + std::to_string(B->rows) + "x" +
                       std::to_string(B->cols) + ", C " + std::to_string(C->rows) + "x" + std::to_string(C->cols));
    return OK;
}

size_t buffer_bytes(const SpMat* A) { return (size_t)(A->rows + 1) * 4; }  // any nonzero size: callers must honour it

}  // namespace

API cusparseStatus_t cusparseSpMM_bufferSize(Handle* h, int opA, int opB, const void* alpha, const SpMat* A, const DnMat* B,
                                             const void* beta, const DnMat* C, int computeType, int alg, size_t* size) {
    int64_t m, k, n;
    if (cusparseStatus_t s = check("cusparseSpMM_bufferSize", h, opA, opB, alpha, A, B, beta, C, computeType, &m, &k, &n)) return s;
    (void)alg;
    if (!size) return INVALID_VALUE;
    *size = buffer_bytes(A);
    return OK;
}

API cusparseStatus_t cusparseSpMM(Handle* h, int opA, int opB, const void* alpha, const SpMat* A, const DnMat* B, const void* beta,
                                  const DnMat* C, int computeType, int alg, void* buffer) {
    const char* fn = "cusparseSpMM";
    int64_t m, k, n;
    if (cusparseStatus_t s = check(fn, h, opA, opB, alpha, A, B, beta, C, computeType, &m, &k, &n)) return s;
    (void)alg;
    std::string why;
    if (!emu::check_range(buffer, buffer_bytes(A), "cusparseSpMM external buffer", &why))
        return bad(fn, why + " (smaller than cusparseSpMM_bufferSize returned, or not device memory)");
    const bool ok = (A->rows == 0 || emu::check_range(A->rowPtr, (A->rows + 1) * 4, "CSR row offsets", &why)) &&
                    (A->nnz == 0 || emu::check_range(A->col, A->nnz * 4, "CSR column indices", &why)) &&
                    (A->nnz == 0 || emu::check_range(A->vals, A->nnz * 4, "CSR values", &why)) &&
                    emu::check_range(B->vals, dense_bytes(*B), "dense B", &why) &&
                    emu::check_range(C->vals, dense_bytes(*C), "dense C", &why);
    if (!ok) {
        emu::device_error(std::string(fn) + ": " + why);
        return EXECUTION_FAILED;
    }
    const float a = *static_cast<const float*>(alpha), b = *static_cast<const float*>(beta);
    const SpMat sa = *A;  // descriptors may be destroyed right after the call: copy them
    const DnMat sb = *B, sc = *C;
    int r = emu::enqueue(h->stream, fn, [=] {
        const bool row = sb.order == ORDER_ROW;
        auto at = [](const DnMat& d, bool row, int64_t i, int64_t j) -> float& {
            return row ? d.vals[i * d.ld + j] : d.vals[j * d.ld + i];
        };
        // CSR sanity, which the real library assumes and a GPU would turn into garbage or a fault
        if (sa.rows > 0 && (sa.rowPtr[0] != 0 || sa.rowPtr[sa.rows] != sa.nnz)) {
            emu::device_error("cusparseSpMM: CSR row offsets run from " + std::to_string(sa.rowPtr[0]) + " to " +
                              std::to_string(sa.rowPtr[sa.rows]) + ", expected 0 to nnz = " + std::to_string(sa.nnz));
            return;
        }
        for (int64_t i = 0; i < sa.rows; i++) {
            if (sa.rowPtr[i + 1] < sa.rowPtr[i]) { emu::device_error("cusparseSpMM: CSR row offsets decrease at row " + std::to_string(i)); return; }
            for (int e = sa.rowPtr[i]; e < sa.rowPtr[i + 1]; e++)
                if (sa.col[e] < 0 || sa.col[e] >= sa.cols) {
                    emu::device_error("cusparseSpMM: CSR column index " + std::to_string(sa.col[e]) + " at entry " + std::to_string(e) +
                                      " outside [0, " + std::to_string(sa.cols) + ")");
                    return;
                }
        }
        std::vector<double> acc((size_t)m * n, 0.0);
        for (int64_t i = 0; i < sa.rows; i++)
            for (int e = sa.rowPtr[i]; e < sa.rowPtr[i + 1]; e++) {
                const double w = sa.vals[e];
                const int64_t j = sa.col[e];
                // op(A) = A: C[i] += w B[j]; op(A) = A^T: C[j] += w B[i]
                const int64_t dst = opA == OP_N ? i : j, src = opA == OP_N ? j : i;
                for (int64_t c = 0; c < n; c++) acc[(size_t)dst * n + c] += w * at(sb, row, src, c);
            }
        for (int64_t i = 0; i < m; i++)
            for (int64_t c = 0; c < n; c++) {
                float& out = at(sc, row, i, c);
                const float v = (float)(a * acc[(size_t)i * n + c]);
                out = b == 0.f ? v : v + b * out;
            }
    });
    return r == 0 ? OK : EXECUTION_FAILED;
}
