// loss.cu - mean softmax cross-entropy, forward and backward in one pass, with the loss sum
// and the number of correct predictions accumulated on the device (read only at logging).
//
// What: for every sample b < batch (a column of the classes x batch logits z):
//   logSum = log(sum_k exp(z[k][b] - max)) + max;  loss_b = logSum - z[label_b][b]
//   correct_b = (first argmax == label_b)
//   dz[k][b] = (exp(z[k][b] - logSum) - [k == label_b]) / batch   (when dz != null)
// stats[0] += sum_b loss_b, stats[1] += sum_b correct_b (atomicAdd, order not fixed).
// Layout: logits and dz feature-major (classes x batch, strides ldz / lddz), labels int[batch].
// How: one thread per sample (consecutive threads read consecutive columns: coalesced), then a
// block reduction (warp shuffles + shared memory) and one atomicAdd per block per statistic.
// A label outside [0, classes) gives a NaN loss instead of reading out of bounds.
// Checked by CudaKernelParityTest against ReferenceBackend.softmaxCrossEntropy (double, within 1e-6).

// Sample b's loss, correctness and (dz != null) gradient column from its logits z[k * zs], k <
// classes (zs: the row stride, in global or shared memory). Used by softmax_xent and by the
// output head's fused forward (layer.cu grouped_forward), so both give the same bits.
__device__ __forceinline__ void xent_column(int classes, int batch, const float* z, size_t zs, int label,
                                            float* __restrict__ dz, size_t lddz, float& loss, float& correct)
{
    float mx = -INFINITY;
    int arg = 0;
    for (int k = 0; k < classes; k++) {
        const float v = z[k * zs];
        if (v > mx) { mx = v; arg = k; }
    }
    float sum = 0.f;
    for (int k = 0; k < classes; k++) sum += expf(z[k * zs] - mx);
    const float logSum = logf(sum) + mx;
    const bool ok = label >= 0 && label < classes;
    loss = ok ? logSum - z[(size_t)label * zs] : __int_as_float(0x7fc00000);
    correct = (ok && arg == label) ? 1.f : 0.f;
    if (dz) {
        for (int k = 0; k < classes; k++) {
            const float p = expf(z[k * zs] - logSum);
            dz[(size_t)k * lddz] = (p - (k == label ? 1.f : 0.f)) / (float)batch;
        }
    }
}

// stats[0] += the block's loss sum, stats[1] += its correct count: warp shuffles, one shared
// slot per warp, one atomicAdd per block and statistic. Every thread of the block (<= 256) calls it.
__device__ __forceinline__ void xent_block_stats(float loss, float correct, float* __restrict__ stats)
{
    __shared__ float sLoss[8], sCorrect[8];
    loss = warp_sum(loss);
    correct = warp_sum(correct);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    if (lane == 0) { sLoss[warp] = loss; sCorrect[warp] = correct; }
    __syncthreads();
    if (threadIdx.x == 0) {
        float l = 0.f, c = 0.f;
        for (int w = 0; w < (int)(blockDim.x >> 5); w++) { l += sLoss[w]; c += sCorrect[w]; }
        atomicAdd(&stats[0], l);
        atomicAdd(&stats[1], c);
    }
}

// grid: ceil(batch/256), block: 256
extern "C" __global__ void softmax_xent(
    int classes, int batch, const float* __restrict__ z, int ldz, const int* __restrict__ labels,
    float* __restrict__ dz, int lddz, float* __restrict__ stats)
{
    const int b = blockIdx.x * blockDim.x + threadIdx.x;
    float loss = 0.f, correct = 0.f;
    if (b < batch) xent_column(classes, batch, z + b, ldz, labels[b], dz ? dz + b : nullptr, lddz, loss, correct);
    xent_block_stats(loss, correct, stats);
}
