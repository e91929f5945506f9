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
