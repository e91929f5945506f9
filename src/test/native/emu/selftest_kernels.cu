// selftest_kernels.cu - kernels with planted bugs (and one without), run by emu-selftest on g2g's
// emulated CUDA device to show that each of its checks fires. Test-only: never in the fatbin.
#define FULL_MASK 0xffffffffu

// Correct: block sum of a[0..n) by warp shuffles and a shared array; out[0] = sum.
extern "C" __global__ void good_sum(int n, const float* a, float* out) {
    __shared__ float part[32];
    float v = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) v += a[i];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
    __syncthreads();
    if (threadIdx.x == 0) {
        float s = 0.f;
        for (int w = 0; w < (int)(blockDim.x >> 5); w++) s += part[w];
        out[0] = s;
    }
}

// Bug: the first warp waits at one barrier, the others at another.
extern "C" __global__ void divergent_barrier(float* out) {
    if (threadIdx.x < 32) {
        out[threadIdx.x] = 1.f;
        __syncthreads();
    } else {
        __syncthreads();
    }
}

// Bug: the second warp leaves, the first waits at a barrier the block does not reach together.
extern "C" __global__ void barrier_after_exit(float* out) {
    if (threadIdx.x >= 32) return;
    out[threadIdx.x] = 1.f;
    __syncthreads();
}

// Bug: writes one element past the end (n + 1 threads for n floats).
extern "C" __global__ void write_past_end(int n, float* a) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= n) a[i] = 1.f;
}

// Bug: lane 5 leaves before a full-mask shuffle.
extern "C" __global__ void shuffle_exited_lane(float* out) {
    if (threadIdx.x == 5) return;
    float v = __shfl_xor_sync(FULL_MASK, (float)threadIdx.x, 1);
    out[threadIdx.x] = v;
}

// Bug: half a warp shuffles while the other half waits at __syncthreads: a deadlock.
extern "C" __global__ void deadlock(float* out) {
    float v = (float)threadIdx.x;
    if (threadIdx.x < 16) v = __shfl_sync(FULL_MASK, v, 0);
    __syncthreads();
    out[threadIdx.x] = v;
}

// a[i] = value for i < n (missing-synchronisation and graph cases).
extern "C" __global__ void fill(int n, float* a, float value) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) a[i] = value;
}

// ---- the tensor-core instruction (common.cuh mma_tf32_m16n8k8, the emulator's mma.sync model) ----
#include "common.cuh"

// Correct: warp w computes D_w = A_w B_w + C_w (A 16x8, B 8x8, C and D 16x8, row-major, 128/64/128
// floats per warp), each lane loading and storing its fragments by the PTX ISA's table for
// mma.m16n8k8 .tf32 (transcribed here a second time, so the emulator's copy is checked against it).
extern "C" __global__ void mma_layout(const float* a, const float* b, const float* c, float* d) {
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    a += w * 128;
    b += w * 64;
    c += w * 128;
    d += w * 128;
    const unsigned fa[4] = {__float_as_uint(a[g * 8 + t]), __float_as_uint(a[(g + 8) * 8 + t]), __float_as_uint(a[g * 8 + t + 4]),
                            __float_as_uint(a[(g + 8) * 8 + t + 4])};
    const unsigned fb[2] = {__float_as_uint(b[t * 8 + g]), __float_as_uint(b[(t + 4) * 8 + g])};
    float acc[4] = {c[g * 8 + 2 * t], c[g * 8 + 2 * t + 1], c[(g + 8) * 8 + 2 * t], c[(g + 8) * 8 + 2 * t + 1]};
    mma_tf32_m16n8k8(acc, fa, fb);
    d[g * 8 + 2 * t] = acc[0];
    d[g * 8 + 2 * t + 1] = acc[1];
    d[(g + 8) * 8 + 2 * t] = acc[2];
    d[(g + 8) * 8 + 2 * t + 1] = acc[3];
}

// Bug: lane 5 leaves before the warp's mma.sync, which all 32 lanes must execute.
extern "C" __global__ void mma_exited_lane(float* out) {
    if (threadIdx.x == 5) return;
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    const unsigned fa[4] = {0u, 0u, 0u, 0u}, fb[2] = {0u, 0u};
    mma_tf32_m16n8k8(acc, fa, fb);
    out[threadIdx.x] = acc[0];
}
