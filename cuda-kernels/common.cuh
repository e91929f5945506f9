// Shared helpers for every g2g kernel family. Included once by g2g_kernels.cu.
//
// Layout conventions (the Backend contract, see org.g2g.backend.Tensor):
//  * activations are feature-major: a tensor of units x batch-capacity, row r starts at
//    r * ld (ld = row stride in floats); only columns b < batch are read or written;
//  * packed layer weights follow org.g2g.backend.layout.GroupedLayout as the device holds it
//    (org.g2g.backend.cuda.CudaLayout): G dense group blocks (outPer x inPer, row-major, one
//    after another) followed by the residual edges in CSR order by unit (row, then column),
//    or a plain dense row-major W (out x in).
#pragma once
#include <cstddef>

#define FULL_MASK 0xffffffffu

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

// v rounded to TF32 (10-bit mantissa): round to nearest, ties away from zero, as cvt.rna.tf32.f32
// (CUDA's __float_to_tf32). Inf and NaN pass unchanged. --precision tf32 rounds GEMM operands
// with it; the result is still an fp32 value (its low 13 mantissa bits 0).
__device__ __forceinline__ float tf32_round(float v) {
    unsigned u = __float_as_uint(v);
    if ((u & 0x7f800000u) == 0x7f800000u) return v;
    return __uint_as_float((u + 0x1000u) & 0xffffe000u);
}
