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

// One warp-wide tensor-core product, D = A B + D (A 16 x 8, B 8 x 8, D 16 x 8, TF32 operands
// given as their fp32 bit patterns, fp32 accumulators): the instruction
// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 (sm_80 and later). All 32 lanes of the warp
// execute it together, each holding its fragment in the PTX ISA's per-lane layout ("Matrix
// Fragments for mma.m16n8k8"; groupID = lane >> 2, tig = lane % 4):
//   a[0] = A[groupID][tig]  a[1] = A[groupID+8][tig]  a[2] = A[groupID][tig+4]  a[3] = A[groupID+8][tig+4]
//   b[0] = B[tig][groupID]  b[1] = B[tig+4][groupID]
//   d[0] = D[groupID][2tig] d[1] = D[groupID][2tig+1] d[2] = D[groupID+8][2tig] d[3] = D[groupID+8][2tig+1]
// Under nvcc this is the PTX instruction itself; on the emulated device (g++ with cuda_emu.h) it
// is the emulator's warp-collective model of that instruction, which assembles A, B and D from
// the 32 lanes' registers by the same table (native/emu/cuda_emu.h), so a kernel that indexes its
// fragments wrongly computes a wrong product there too.
__device__ __forceinline__ void mma_tf32_m16n8k8(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
#if defined(__CUDA_ARCH__)
#if __CUDA_ARCH__ < 800
#error "mma.sync m16n8k8 .tf32 needs sm_80 or later"
#endif
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#elif !defined(__CUDACC__)
    ::emu::mma_m16n8k8_tf32(d, a, b, d, __LINE__, __FILE__);
#endif
}
