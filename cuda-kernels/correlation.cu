// correlation.cu - the normalisation half of the batched activation correlation behind
// Hebbian regrowth; the product itself is gemm_nt (gemm.cu) with the mode-2 epilogue.
//
// What: scores[o][i] = <y_o, x_i> / (|y_o| |x_i| + 1e-8) (COSINE), the same after centring
// every row on its batch mean (PEARSON), or the plain product (RAW, no row_stats).
//   row_stats  for every row r of a (rows x batch, stride lda):
//              mean = centre ? sum_b a[r][b] / batch : 0
//              norm[r] = sqrt(sum_b (a[r][b] - mean)^2)
//              if out != null: out[r][b] = a[r][b] - mean  (the centred copy PEARSON multiplies)
// Layout: feature-major activations, one row per unit; norm is a vector of rows floats.
// How: one warp per row, two passes over the row (mean first, then squares of deviations),
// so centring never cancels catastrophically. The whole correlation is then one GEMM with
// the division fused into its epilogue: (out x batch) x (batch x in) -> out x in.
// Checked by CudaKernelParityTest against ReferenceBackend.correlation (double precision).

// grid: ceil(rows/8), block: 256 (one warp per row)
extern "C" __global__ void __launch_bounds__(256) row_stats(
    int rows, int batch, const float* __restrict__ a, int lda, int centre,
    float* __restrict__ norm, float* __restrict__ out, int ldo)
{
    const int r = (int)(((size_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5);
    const int lane = threadIdx.x & 31;
    if (r >= rows) return;
    const float* p = a + (size_t)r * lda;
    float mean = 0.f;
    if (centre && batch > 0) {
        float s = 0.f;
        for (int b = lane; b < batch; b += 32) s += p[b];
        mean = warp_sum(s) / (float)batch;
    }
    float ss = 0.f;
    for (int b = lane; b < batch; b += 32) {
        const float d = p[b] - mean;
        ss = fmaf(d, d, ss);
        if (out) out[(size_t)r * ldo + b] = d;
    }
    ss = warp_sum(ss);
    if (lane == 0) norm[r] = sqrtf(ss);
}
