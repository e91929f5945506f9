package org.g2g.backend.cuda;

import java.nio.file.Path;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasOperation;
import jcuda.runtime.cudaStream_t;

/**
 * cuBLAS through JCublas2, for the dense layers (output head, dense baselines). JCublas2 12.6.0
 * needs libcublas.so.12; on CUDA 13 hosts only libcublas.so.13 exists, so the forwarding shim
 * (native/cublas12_shim.c) is loaded first when the loader cannot find a real libcublas.so.12.
 * Only the functions the shim forwards may be called: create, destroy, set stream, sgemm.
 * When anything fails the backend uses its own GEMM kernel (gemm.cu) and says so.
 */
final class Blas implements AutoCloseable {
    private static String availability;

    private final cublasHandle handle = new cublasHandle();
    private final Pointer one = Pointer.to(new float[] {1f});
    private final Pointer zero = Pointer.to(new float[] {0f});
    private boolean open;

    private Blas(CUstream stream) {
        JCublas2.cublasCreate(handle);
        open = true;
        JCublas2.cublasSetStream(handle, new cudaStream_t(stream));
    }

    /** "loaded" (and how) or why not; loads the library at most once per JVM. Never throws. */
    static synchronized String availability() {
        if (availability == null) availability = load();
        return availability;
    }

    private static String load() {
        try {
            String how = "";
            if (!NativeLibs.loaderFinds("libcublas.so.12")) {
                Path shim = NativeLibs.cublasShim();
                if (shim == null) return "not loaded: libcublas.so.12 not found and the forwarding shim was not built";
                if (System.getenv("G2G_CUBLAS_LIB") == null && !NativeLibs.loaderFinds("libcublas.so.13")) {
                    return "not loaded: neither libcublas.so.12 nor libcublas.so.13 found (set LD_LIBRARY_PATH or G2G_CUBLAS_LIB)";
                }
                System.load(shim.toString());
                how = " (libcublas.so.13 via the libcublas.so.12 shim)";
            }
            JCublas2.setExceptionsEnabled(true); // first touch loads the JNI library
            return "loaded" + how;
        } catch (LinkageError | Exception e) {
            return "not loaded: " + NativeLibs.oneLine(e);
        }
    }

    /** A handle bound to {@code stream}, or null (with the reason in {@code why[0]}). */
    static Blas create(CUstream stream, String[] why) {
        String a = availability();
        if (!a.startsWith("loaded")) {
            why[0] = a;
            return null;
        }
        try {
            return new Blas(stream);
        } catch (RuntimeException | LinkageError e) {
            why[0] = "cublasCreate failed: " + NativeLibs.oneLine(e);
            return null;
        }
    }

    /** Column-major C (m x n) = op(A) op(B), the plain cuBLAS convention, alpha 1, beta 0. */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, CUdeviceptr a, int lda,
               CUdeviceptr b, int ldb, CUdeviceptr c, int ldc) {
        JCublas2.cublasSgemm(handle, transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N,
                transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N,
                m, n, k, one, a, lda, b, ldb, zero, c, ldc);
    }

    /**
     * CUBLAS_TF32_TENSOR_OP_MATH (3): SGEMM may round its operands to TF32 and use tensor cores
     * (--precision tf32). The emulated cuBLAS rounds them (native/emu/cublas.cc).
     */
    void tf32TensorOps() {
        JCublas2.cublasSetMathMode(handle, 3);
    }

    @Override
    public void close() {
        if (open) {
            open = false;
            JCublas2.cublasDestroy(handle);
        }
    }
}
