package org.g2g.config;

/**
 * --precision: the number format of the layers' matrix products. FP32 (the default, as in
 * PyTorch) multiplies in fp32 everywhere. TF32 (CUDA only) lets cuBLAS use tensor cores (its
 * TF32 math mode) and makes the group-block GEMM round its operands to TF32 (10-bit mantissa,
 * round to nearest, ties away) and multiply them on tensor cores (mma.sync, cuda-kernels/gemm.cu),
 * accumulating in fp32: products then agree
 * with fp32 to about 1e-3 of the sum of |terms| instead of 1e-4 (CudaKernelParityTest states
 * both). The CPU has no such format: tf32 is refused there, not silently ignored.
 */
public enum Precision implements Choice {
    FP32, TF32;

    @Override public String toString() { return spelling(); }
}
