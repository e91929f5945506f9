// Shared helpers for every g2g kernel family. Included once by g2g_kernels.cu.
//
// Layout conventions (the Backend contract, see org.g2g.backend.Tensor):
//  * activations are feature-major: a tensor of units x batch-capacity, row r starts at
//    r * ld (ld = row stride in floats); only columns b < batch are read or written;
//  * packed layer weights follow org.g2g.backend.cuda.PackedLayout: G dense group blocks
//    (outPer x inPer, row-major, one after another) followed by the inter-group edges in
//    CSR order (row, then column), or a plain dense row-major W (out x in).
#pragma once
#include <cstddef>

#define FULL_MASK 0xffffffffu

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}
