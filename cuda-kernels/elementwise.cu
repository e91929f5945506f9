// elementwise.cu - the O(units x batch) and O(parameters) pieces of a training step, so that a
// step makes no host round trip: ReLU backward, Adam, SGD, EMA, |w|, and the batch gather from
// a device-resident dataset.
//
// What (same semantics as org.g2g.backend.cpu.HostOps, operation by operation):
//   relu_backward  dy[r][b] = 0 where y[r][b] <= 0                (r < rows, b < batch)
//   adam           g' = g + wd*w; m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'*g';
//                  m = 0 if |m| < 1e-30; v = 0 if v < 1e-30 (the CPU's denormal flush);
//                  w -= step*m / (sqrt(v)*invSqrtBc2 + eps), step = lr/(1-b1^t) from the host
//   sgd            g' = g + wd*w; with momentum: buf = mom*buf + g' (flushed < 1e-30),
//                  g' = nesterov ? g' + mom*buf : buf;  w -= lr*g'
//   ema            acc = beta*acc + (1-beta)*cur (flat over n elements)
//   abs_inplace    a = |a| (flat)
//   gather_batch   x[f][b] = images[order[offset+b]][f], yb[b] = labels[order[offset+b]]
// The optimizer and EMA kernels use __fmul_rn/__fadd_rn so nvcc cannot contract them into
// FMAs: with the host passing the same float constants they are bit-identical to Java.
// Layout: flat float vectors for optimizer state (packed layers, biases); feature-major
// activations; the dataset sample-major (n x features, stride ldi) as loaded.
// How: grid-stride loops; the gather transposes through a 32x33 shared tile so that both the
// sample-row reads and the feature-row writes are coalesced.
// Checked by CudaKernelParityTest against HostOps (exact equality for adam/sgd/ema/gather).

extern "C" __global__ void relu_backward(int rows, int batch, const float* __restrict__ y, int ldy,
                                         float* __restrict__ dy, int lddy)
{
    const long long n = (long long)rows * batch;
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < n;
         t += (long long)gridDim.x * blockDim.x) {
        const int r = (int)(t / batch), b = (int)(t % batch);
        if (y[(size_t)r * ldy + b] <= 0.f) dy[(size_t)r * lddy + b] = 0.f;
    }
}

// One element of Adam / SGD: shared by the one-tensor kernels here and the multi-tensor ones in
// step.cu, so every path rounds the same.
__device__ __forceinline__ void adam_element(long long k, float* __restrict__ w, const float* __restrict__ g,
    float* __restrict__ m, float* __restrict__ v, float step, float beta1, float oneMinusBeta1, float beta2,
    float oneMinusBeta2, float eps, float weightDecay, float invSqrtBc2)
{
    const float wk = w[k];
    const float gk = __fadd_rn(g[k], __fmul_rn(weightDecay, wk));
    float mk = __fadd_rn(__fmul_rn(beta1, m[k]), __fmul_rn(oneMinusBeta1, gk));
    float vk = __fadd_rn(__fmul_rn(beta2, v[k]), __fmul_rn(__fmul_rn(oneMinusBeta2, gk), gk));
    if (fabsf(mk) < 1e-30f) mk = 0.f;
    if (vk < 1e-30f) vk = 0.f;
    m[k] = mk;
    v[k] = vk;
    const float denom = __fadd_rn(__fmul_rn(__fsqrt_rn(vk), invSqrtBc2), eps);
    w[k] = __fsub_rn(wk, __fdiv_rn(__fmul_rn(step, mk), denom));
}

__device__ __forceinline__ void sgd_element(long long k, float* __restrict__ w, const float* __restrict__ g,
    float* __restrict__ buf, float lr, float momentum, int nesterov, float weightDecay)
{
    const float wk = w[k];
    float gk = __fadd_rn(g[k], __fmul_rn(weightDecay, wk));
    if (momentum != 0.f) {
        float bk = __fadd_rn(__fmul_rn(momentum, buf[k]), gk);
        if (fabsf(bk) < 1e-30f) bk = 0.f;
        buf[k] = bk;
        gk = nesterov ? __fadd_rn(gk, __fmul_rn(momentum, bk)) : bk;
    }
    w[k] = __fsub_rn(wk, __fmul_rn(lr, gk));
}

extern "C" __global__ void adam(long long n, float* __restrict__ w, const float* __restrict__ g,
    float* __restrict__ m, float* __restrict__ v, float step, float beta1, float oneMinusBeta1,
    float beta2, float oneMinusBeta2, float eps, float weightDecay, float invSqrtBc2)
{
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n;
         k += (long long)gridDim.x * blockDim.x)
        adam_element(k, w, g, m, v, step, beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, weightDecay, invSqrtBc2);
}

extern "C" __global__ void sgd(long long n, float* __restrict__ w, const float* __restrict__ g,
    float* __restrict__ buf, float lr, float momentum, int nesterov, float weightDecay)
{
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n;
         k += (long long)gridDim.x * blockDim.x)
        sgd_element(k, w, g, buf, lr, momentum, nesterov, weightDecay);
}

extern "C" __global__ void ema(long long n, float* __restrict__ acc, const float* __restrict__ cur,
                               float beta, float oneMinusBeta)
{
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n;
         k += (long long)gridDim.x * blockDim.x)
        acc[k] = __fadd_rn(__fmul_rn(beta, acc[k]), __fmul_rn(oneMinusBeta, cur[k]));
}

extern "C" __global__ void abs_inplace(long long n, float* __restrict__ a)
{
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < n;
         k += (long long)gridDim.x * blockDim.x)
        a[k] = fabsf(a[k]);
}

// The gather's body, shared with gather_step (step.cu), which reads the offset from device memory.
__device__ __forceinline__ void gather_tile(int features, int batch, const float* __restrict__ images,
    int ldi, const int* __restrict__ order, int offset, float* __restrict__ x, int ldx,
    const int* __restrict__ labels, int* __restrict__ yb)
{
    __shared__ float tile[32][33]; // [sample][feature], +1 avoids bank conflicts on the transpose
    const int f0 = blockIdx.x * 32, b0 = blockIdx.y * 32;
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int bl = threadIdx.y + 8 * j;
        const int b = b0 + bl, f = f0 + threadIdx.x;
        if (b < batch && f < features)
            tile[bl][threadIdx.x] = images[(size_t)order[offset + b] * ldi + f];
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int fl = threadIdx.y + 8 * j;
        const int f = f0 + fl, b = b0 + threadIdx.x;
        if (f < features && b < batch) x[(size_t)f * ldx + b] = tile[threadIdx.x][fl];
    }
    if (blockIdx.x == 0 && threadIdx.y == 0) {
        const int b = b0 + threadIdx.x;
        if (b < batch) yb[b] = labels[order[offset + b]];
    }
}

// grid: (ceil(features/32), ceil(batch/32)), block: (32, 8)
extern "C" __global__ void gather_batch(int features, int batch, const float* __restrict__ images,
    int ldi, const int* __restrict__ order, int offset, float* __restrict__ x, int ldx,
    const int* __restrict__ labels, int* __restrict__ yb)
{
    gather_tile(features, batch, images, ldi, order, offset, x, ldx, labels, yb);
}
