// step.cu - what a training step recorded once as a CUDA graph and replayed needs: kernels that
// read the step's scalars from device memory instead of taking them as launch arguments (a
// replayed graph runs with the arguments it was recorded with), and the optimizer over every
// parameter of the model in one launch (multi-tensor), so an unrecorded step launches less.
//
// What:
//   adam_multi   adam (elementwise.cu) on every tensor j of the table, step and invSqrtBc2 from s
//   sgd_multi    sgd on every tensor j, lr from s
//   gather_step  gather_batch with the offset from s
// Step scalars s: float[4] in device memory (org.g2g.backend.StepScalars), written by value with
//   cuMemsetD32Async on the stream before each step's work: s[0] lr, s[1] Adam's lr / (1 - beta1^t),
//   s[2] Adam's 1 / sqrt(1 - beta2^t), s[3] the batch offset (an int's bits). The host computes them
//   exactly as for the one-tensor kernels, so every path gives the same bits.
// Parameter table: ptrs[4j .. 4j+3] = w, g and the state (Adam: m, v; SGD: the momentum buffer,
//   then null) of tensor j, sizes[j] its element count; rebuilt by the host only when a parameter
//   moves (a DST update re-packs the layers).
// How: grid (x, tensors), block 256: blockIdx.y picks the tensor, then a grid-stride loop over its
//   elements, each done by adam_element / sgd_element (elementwise.cu), so every element rounds as
//   in the one-tensor kernels and in HostOps.
// Checked by CudaStepTest (against the one-tensor kernels and the CPU backend, bit for bit).

// grid: (x, tensors), block: 256
extern "C" __global__ void adam_multi(float* const* __restrict__ ptrs, const long long* __restrict__ sizes,
    const float* __restrict__ s, float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2, float eps,
    float weightDecay)
{
    const int j = blockIdx.y;
    const long long n = sizes[j];
    float* w = ptrs[4 * j];
    float* g = ptrs[4 * j + 1];
    float* m = ptrs[4 * j + 2];
    float* v = ptrs[4 * j + 3];
    const float step = s[1], invSqrtBc2 = s[2];
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n;
         k += (long long)gridDim.x * blockDim.x)
        adam_element(k, w, g, m, v, step, beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, weightDecay, invSqrtBc2);
}

// grid: (x, tensors), block: 256
extern "C" __global__ void sgd_multi(float* const* __restrict__ ptrs, const long long* __restrict__ sizes,
    const float* __restrict__ s, float momentum, int nesterov, float weightDecay)
{
    const int j = blockIdx.y;
    const long long n = sizes[j];
    float* w = ptrs[4 * j];
    float* g = ptrs[4 * j + 1];
    float* buf = ptrs[4 * j + 2];
    const float lr = s[0];
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n;
         k += (long long)gridDim.x * blockDim.x)
        sgd_element(k, w, g, buf, lr, momentum, nesterov, weightDecay);
}

// grid: (ceil(features/32), ceil(batch/32)), block: (32, 8)
extern "C" __global__ void gather_step(int features, int batch, const float* __restrict__ images,
    int ldi, const int* __restrict__ order, const float* __restrict__ s, float* __restrict__ x, int ldx,
    const int* __restrict__ labels, int* __restrict__ yb)
{
    gather_tile(features, batch, images, ldi, order, __float_as_int(s[3]), x, ldx, labels, yb);
}
