package org.g2g.backend.cuda;

import static org.g2g.backend.cuda.Geometry.ceil;

import jcuda.driver.CUdeviceptr;

/**
 * The two ways a product of dense operands is launched: our gemm.cu kernels (batched over Z
 * problems, operands optionally gathered through index lists, an epilogue mode) and cuBLAS
 * SGEMM when it loaded and passed its self-check. Every call is timed like a kernel when the
 * context's per-launch timing is on.
 */
final class DeviceGemm {
    private final CudaContext ctx;

    DeviceGemm(CudaContext ctx) { this.ctx = ctx; }

    /** The cuBLAS handle, or null when dense products use {@link #gemm}. */
    Blas blas() { return ctx.blas(); }

    /** One of gemm_nn / gemm_tn / gemm_nt (gemm.cu) over Z problems; see that file for the operand layouts. */
    void gemm(String fn, int m, int n, int k, int z,
              Object a, int lda, long sAz, Object aIdx, int sAIz,
              Object b, int ldb, long sBz, Object bIdx, int sBIz,
              Object c, int ldc, long sCz, Object cIdx, int sCIz,
              Object cMask, Object rowScale, Object colScale, int mode) {
        if (m <= 0 || n <= 0 || z <= 0) return;
        ctx.launch(fn, ceil(n, 64), ceil(m, 64), z, 256, 1,
                m, n, k, a, lda, sAz, aIdx, sAIz, b, ldb, sBz, bIdx, sBIz, c, ldc, sCz, cIdx, sCIz,
                cMask, rowScale, colScale, mode);
    }

    /** Column-major cuBLAS SGEMM on the stream: C = op(A) op(B). */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, CUdeviceptr a, int lda, CUdeviceptr b, int ldb,
               CUdeviceptr c, int ldc) {
        Blas blas = ctx.blas();
        ctx.library("cublas_sgemm", () -> blas.sgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc));
    }
}
