// select.cu - top-k / bottom-k edge selection on the device for dynamic sparse training.
//
// What: among the candidate positions p < n of a dense out x in score matrix - inactive
// edges (mask[p] == 0, regrowth: k largest scores) or active edges (mask[p] != 0, pruning:
// k smallest scores) - write the k selected positions (o * in + i) to out[0..k), unordered.
// Ties at the threshold are broken arbitrarily (first come by atomics); the count is exact.
// Precondition (checked on the host): 0 < k <= number of candidates.
// Layout: scores float[n], mask uint8[n] (1 = active edge), both dense row-major out x in.
// How: exact radix select on order-preserving 32-bit keys, 8 bits per pass, no host round
// trip: select_init; 4 x (select_hist over all candidates matching the prefix so far ->
// select_pick, one thread, walks the 256 bins from the top, fixes the next byte of the
// threshold key and the number still to take from inside it); select_collect writes every
// key above the threshold plus `remaining` keys equal to it.
// state[0] = prefix, state[1] = prefix mask, state[2] = remaining, state[3] = written,
// state[4] = ties taken. For "smallest" the key is inverted, so both are "largest key".
// Checked by CudaKernelParityTest against a host sort on distinct random scores.

__device__ __forceinline__ unsigned select_key(float f, int largest) {
    unsigned u = __float_as_uint(f);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u); // monotone: larger float -> larger key
    return largest ? u : ~u;
}

__device__ __forceinline__ bool select_candidate(const unsigned char* mask, long long p, int wantActive) {
    return (mask[p] != 0) == (wantActive != 0);
}

extern "C" __global__ void select_init(unsigned* state, unsigned* hist, int k) {
    const int t = threadIdx.x;
    if (t < 256) hist[t] = 0u;
    if (t == 0) { state[0] = 0u; state[1] = 0u; state[2] = (unsigned)k; state[3] = 0u; state[4] = 0u; }
}

// grid-stride, block 256
extern "C" __global__ void select_hist(long long n, const float* __restrict__ scores,
    const unsigned char* __restrict__ mask, int wantActive, int largest,
    const unsigned* __restrict__ state, unsigned* __restrict__ hist, int shift)
{
    __shared__ unsigned sh[256];
    for (int t = threadIdx.x; t < 256; t += blockDim.x) sh[t] = 0u;
    __syncthreads();
    const unsigned prefix = state[0], pmask = state[1];
    for (long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x; p < n;
         p += (long long)gridDim.x * blockDim.x) {
        if (!select_candidate(mask, p, wantActive)) continue;
        const unsigned key = select_key(scores[p], largest);
        if ((key & pmask) == prefix) atomicAdd(&sh[(key >> shift) & 255u], 1u);
    }
    __syncthreads();
    for (int t = threadIdx.x; t < 256; t += blockDim.x)
        if (sh[t]) atomicAdd(&hist[t], sh[t]);
}

// grid 1, block 1
extern "C" __global__ void select_pick(unsigned* state, unsigned* hist, int shift) {
    if (threadIdx.x != 0 || blockIdx.x != 0) return;
    const unsigned rem = state[2];
    unsigned above = 0u;
    int bin = 0;
    for (int b = 255; b >= 0; b--) {
        const unsigned h = hist[b];
        if (above + h >= rem) { bin = b; break; }
        above += h;
    }
    state[2] = rem - above;            // still to take from inside the chosen bin
    state[0] |= (unsigned)bin << shift;
    state[1] |= 0xFFu << shift;
    for (int b = 0; b < 256; b++) hist[b] = 0u; // ready for the next pass
}

// grid-stride, block 256
extern "C" __global__ void select_collect(long long n, const float* __restrict__ scores,
    const unsigned char* __restrict__ mask, int wantActive, int largest,
    unsigned* __restrict__ state, int* __restrict__ out)
{
    const unsigned thr = state[0], rem = state[2];
    for (long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x; p < n;
         p += (long long)gridDim.x * blockDim.x) {
        if (!select_candidate(mask, p, wantActive)) continue;
        const unsigned key = select_key(scores[p], largest);
        if (key > thr) {
            out[atomicAdd(&state[3], 1u)] = (int)p;
        } else if (key == thr) {
            if (atomicAdd(&state[4], 1u) < rem) out[atomicAdd(&state[3], 1u)] = (int)p;
        }
    }
}
