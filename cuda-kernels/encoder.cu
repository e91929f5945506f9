// encoder.cu - the data side of the patch encoder and of CIFAR's augmentation, on the device:
// the patch gather and the reshapes around the encoder's GEMM (copy_strips), and the random
// crop + horizontal flip of a training batch (crop_flip). The encoder's GEMM itself is the
// dense layer path (cuBLAS / gemm.cu) over (patches x batch) columns.
//
// What (same semantics as org.g2g.backend.cpu.HostOps.copyStrips / cropFlip):
//   copy_strips  for strip s < count (4 ints at strips + 4s: srcRow, srcBlock, dstRow, dstBlock)
//                and b < width: dst[dstRow][dstBlock*width + b] = src[srcRow][srcBlock*width + b]
//                (destinations never overlap, so no atomics)
//   crop_flip    for pixel row r = (c*height + y)*width + x and sample b < batch, with
//                (oy, ox, flip) = params[3b .. 3b+2]: x' = flip ? width-1-x : x,
//                sy = y + oy - pad, sx = x' + ox - pad; dst[r][b] = src[(c*height+sy)*width+sx][b],
//                0 outside the image (crop of the zero-padded image, then the flip)
// Layout: feature-major tensors (rows x batch columns, row stride ld floats); strips and params
// are int vectors written by the host once (strips) or per step (params).
// How: grid-stride loops over (row, column) pairs; consecutive threads take consecutive
// columns, so reads and writes of a row are coalesced (crop_flip's source row varies per sample,
// but within a row the columns stay contiguous).
// Checked by EncoderCudaParityTest against HostOps (exact equality: pure copies).

extern "C" __global__ void copy_strips(int count, int width, const float* __restrict__ src, int lds,
                                       float* __restrict__ dst, int ldd, const int* __restrict__ strips)
{
    const long long n = (long long)count * width;
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < n;
         t += (long long)gridDim.x * blockDim.x) {
        const int s = (int)(t / width), b = (int)(t % width);
        const int* q = strips + 4 * (long long)s;
        dst[(size_t)q[2] * ldd + (size_t)q[3] * width + b] = src[(size_t)q[0] * lds + (size_t)q[1] * width + b];
    }
}

extern "C" __global__ void crop_flip(int channels, int height, int width, int pad, int batch,
                                     const float* __restrict__ src, int lds, float* __restrict__ dst, int ldd,
                                     const int* __restrict__ params)
{
    const long long n = (long long)channels * height * width * batch;
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < n;
         t += (long long)gridDim.x * blockDim.x) {
        const int r = (int)(t / batch), b = (int)(t % batch);
        const int c = r / (height * width), y = r / width % height, x = r % width;
        const int sy = y + params[3 * b] - pad;
        const int sx = (params[3 * b + 2] != 0 ? width - 1 - x : x) + params[3 * b + 1] - pad;
        dst[(size_t)r * ldd + b] = (sy < 0 || sy >= height || sx < 0 || sx >= width) ? 0.f
                : src[(size_t)((c * height + sy) * width + sx) * lds + b];
    }
}
