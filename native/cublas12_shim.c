/*
 * libcublas.so.12 forwarding shim: lets JCublas2 12.6.0 (linked against libcublas.so.12,
 * symbols versioned @libcublas.so.12) run on CUDA 13 hosts that only have libcublas.so.13.
 *
 * It defines the version node `libcublas.so.12` (cublas12.map) and exactly the functions
 * org.g2g.backend.cuda.Blas calls; each forwards through dlsym to libcublas.so.13 (or to the
 * file named by $G2G_CUBLAS_LIB). A function JCublas2 would call beyond these is absent and
 * would abort the JVM with "symbol lookup error", so Blas must not call anything else.
 * When the target library cannot be opened, every function returns
 * CUBLAS_STATUS_NOT_INITIALIZED (1) instead of crashing, and the backend falls back to its
 * own GEMM kernel.
 *
 * ABI: the signatures below are those of cublas_api.h in CUDA 12.x; they are unchanged in
 * CUDA 13.0 for these functions (handles and streams are opaque pointers, enums are int).
 * Built by `mvn package` when gcc exists (see pom.xml); loaded by Blas before JCublas2 only
 * when no real libcublas.so.12 is found. Verified here only to compile and export the right
 * versioned symbols (CublasShimTest); it can be exercised only on a GPU host.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

typedef int cublasStatus_t;
typedef void* cublasHandle_t;
typedef void* cudaStream_t;
typedef int cublasOperation_t;
typedef int cublasMath_t;

#define NOT_INITIALIZED 1

static void* target;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void open_target(void) {
    const char* path = getenv("G2G_CUBLAS_LIB");
    target = dlopen(path && *path ? path : "libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
}

static void* sym(const char* name) {
    pthread_once(&once, open_target);
    return target ? dlsym(target, name) : NULL;
}

#define FORWARD(ret, name, params, args)                         \
    ret name params {                                            \
        static ret (*fn) params;                                 \
        if (!fn) fn = (ret (*) params) sym(#name);               \
        if (!fn) return NOT_INITIALIZED;                         \
        return fn args;                                          \
    }

FORWARD(cublasStatus_t, cublasCreate_v2, (cublasHandle_t* handle), (handle))
FORWARD(cublasStatus_t, cublasDestroy_v2, (cublasHandle_t handle), (handle))
FORWARD(cublasStatus_t, cublasGetVersion_v2, (cublasHandle_t handle, int* version), (handle, version))
FORWARD(cublasStatus_t, cublasSetStream_v2, (cublasHandle_t handle, cudaStream_t stream), (handle, stream))
FORWARD(cublasStatus_t, cublasGetStream_v2, (cublasHandle_t handle, cudaStream_t* stream), (handle, stream))
FORWARD(cublasStatus_t, cublasSetMathMode, (cublasHandle_t handle, cublasMath_t mode), (handle, mode))
FORWARD(cublasStatus_t, cublasSgemm_v2,
        (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
         const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta,
         float* C, int ldc),
        (handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc))
