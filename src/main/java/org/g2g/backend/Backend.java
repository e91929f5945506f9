package org.g2g.backend;

import java.util.List;
import org.g2g.model.Mask;

/**
 * The only place that knows where numbers live. The trainer speaks to every device through
 * these operations and never branches on the device.
 *
 * Conventions: a layer computes y = act(W x + b) with W (out x in); activations are
 * feature-major tensors (units x batch capacity), {@code batch} columns used. Layer weights
 * are packed vectors in a {@link LayerPlan}'s layout. Loss statistics accumulate on the
 * device and are read only at logging points.
 */
public interface Backend extends AutoCloseable {
    /** Short name for records: "cpu", "cuda:0". */
    String name();

    /** One line for humans: model of the CPU or GPU, threads, vector width. */
    String description();

    // ---- memory ----
    /** A zero-filled tensor rows x cols (the backend picks the padded row stride). */
    Tensor tensor(int rows, int cols);

    default Tensor vector(int n) { return tensor(1, n); }

    IntVector ints(int n);

    /** Copies a dense row-major rows x cols host array into t. */
    void write(Tensor t, float[] src);

    /** The dense row-major rows x cols contents of t. */
    float[] read(Tensor t);

    void write(IntVector v, int[] src);

    int[] read(IntVector v);

    void zero(Tensor t);

    /** dst = src (same shape). */
    void copy(Tensor src, Tensor dst);

    // ---- layers ----
    LayerPlan plan(Mask mask);

    /** Dense row-major W (out x in), zero off the mask, into the plan's packed layout. */
    void pack(LayerPlan p, float[] dense, Tensor packed);

    /** The packed vector back to dense row-major (out x in), zeros off the mask. */
    float[] unpack(LayerPlan p, Tensor packed);

    /** y[o][b] = act(sum_i W[o][i] x[i][b] + bias[o]) for b < batch; act = ReLU when relu. */
    void forward(LayerPlan p, Tensor w, Tensor bias, Tensor x, Tensor y, int batch, boolean relu);

    /** dx[i][b] = sum_o W[o][i] dy[o][b]. */
    void backwardInput(LayerPlan p, Tensor w, Tensor dy, Tensor dx, int batch);

    /** gw (packed) = dy x^T on active edges only, 0 at holes; gb[o] = sum_b dy[o][b]. Overwrites. */
    void weightGrad(LayerPlan p, Tensor x, Tensor dy, Tensor gw, Tensor gb, int batch);

    /** dy[o][b] = 0 where y[o][b] <= 0 (y is the ReLU output). */
    void reluBackward(Tensor y, Tensor dy, int batch);

    /**
     * A layer's whole backward pass: {@link #weightGrad} into gw, gb; then, when dx is not null,
     * {@link #backwardInput} into dx and, when reluX, {@link #reluBackward} of dx through x (x is
     * then the ReLU output of the layer below). Exactly those three calls, in that order, by
     * default; a device backend overrides it to queue fewer, fused launches with the same result.
     */
    default void layerBackward(LayerPlan p, Tensor w, Tensor x, Tensor dy, Tensor gw, Tensor gb, Tensor dx, boolean reluX,
                               int batch) {
        weightGrad(p, x, dy, gw, gb, batch);
        if (dx != null) {
            backwardInput(p, w, dy, dx, batch);
            if (reluX) reluBackward(x, dx, batch);
        }
    }

    /**
     * Mean softmax cross-entropy over the batch: writes dlogits = (softmax - onehot) / batch
     * (when dlogits is not null) and adds the summed loss to stats[0] and the number of
     * correct argmax predictions to stats[1]. stats is a vector of at least 2.
     */
    void softmaxCrossEntropy(Tensor logits, IntVector labels, Tensor dlogits, Tensor stats, int batch);

    /**
     * The output layer's forward pass and the loss on its logits: {@link #forward} (no ReLU) into
     * logits, then {@link #softmaxCrossEntropy}. Exactly those two calls by default; a device
     * backend overrides it to queue one fused launch with the same logits and dlogits.
     */
    default void forwardLoss(LayerPlan p, Tensor w, Tensor b, Tensor x, Tensor logits, IntVector labels, Tensor dlogits,
                             Tensor stats, int batch) {
        forward(p, w, b, x, logits, batch, false);
        softmaxCrossEntropy(logits, labels, dlogits, stats, batch);
    }

    /**
     * scores (out x in, dense row-major vector of out*in) = correlation between every row of
     * y (out x batch) and every row of x (in x batch), computed as one product.
     */
    void correlation(Tensor y, Tensor x, int batch, Correlation kind, Tensor scores);

    /** acc = beta * acc + (1 - beta) * cur, elementwise over equal shapes. */
    void ema(Tensor acc, Tensor cur, float beta);

    // ---- optimizers over flat vectors (packed layers, biases) ----
    /**
     * Adam with L2 weight decay added to the gradient (torch.optim.Adam semantics);
     * t is the 1-based step for bias correction. Elements with w = g = m = v = 0 stay 0,
     * which keeps holes of the packed layout at zero.
     */
    void adam(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
              float eps, float weightDecay, long t);

    /** SGD with (Nesterov) momentum and L2 weight decay (torch.optim.SGD semantics). */
    void sgd(Tensor w, Tensor g, Tensor buf, float lr, float momentum, boolean nesterov, float weightDecay);

    /**
     * Adam (as {@link #adam(Tensor, Tensor, Tensor, Tensor, float, float, float, float, float, long)})
     * on every parameter w[j] with gradient g[j] and state m[j], v[j], at the learning rate and
     * step of {@code s} (given to {@link #beginStep} first). A device does them in one launch.
     */
    default void adam(List<Tensor> w, List<Tensor> g, List<Tensor> m, List<Tensor> v, float beta1, float beta2, float eps,
                      float weightDecay, StepScalars s) {
        for (int j = 0; j < w.size(); j++) adam(w.get(j), g.get(j), m.get(j), v.get(j), s.lr(), beta1, beta2, eps, weightDecay, s.t());
    }

    /** SGD (as {@link #sgd(Tensor, Tensor, Tensor, float, float, boolean, float)}) on every parameter, at the learning rate of s. */
    default void sgd(List<Tensor> w, List<Tensor> g, List<Tensor> buf, float momentum, boolean nesterov, float weightDecay,
                     StepScalars s) {
        for (int j = 0; j < w.size(); j++) sgd(w.get(j), g.get(j), buf.get(j), s.lr(), momentum, nesterov, weightDecay);
    }

    // ---- steps ----
    /**
     * The scalars of the training step whose work is queued next; operations that take a
     * {@link StepScalars} must be given this one. A device writes them into device memory on its
     * queue (by value: nothing waits), so a recorded step replays with each step's numbers.
     */
    default void beginStep(StepScalars s) {}

    /** Records and replays training steps, or null when the device has no such thing (the CPU). */
    default StepRecorder stepRecorder() { return null; }

    /** Kernel launches queued so far (library calls and graph launches included), or -1 when not counted (the CPU). */
    default long launches() { return -1; }

    // ---- data ----
    /**
     * Gathers samples order[offset .. offset+batch) of a sample-major dataset
     * (images: n x features) into feature-major x (features x batch) and their labels into yb.
     */
    void gather(Tensor images, IntVector labels, IntVector order, int offset, int batch, Tensor x, IntVector yb);

    /** {@link #gather} at the batch offset of s (given to {@link #beginStep} first). */
    default void gather(Tensor images, IntVector labels, IntVector order, StepScalars s, int batch, Tensor x, IntVector yb) {
        gather(images, labels, order, s.offset(), batch, x, yb);
    }

    /**
     * Strip copies between feature-major tensors, for the patch encoder's patch gather and the
     * reshapes around it. strips holds 4 ints per strip (srcRow, srcBlock, dstRow, dstBlock);
     * for each of the first count strips and b < width:
     * dst[dstRow][dstBlock * width + b] = src[srcRow][srcBlock * width + b].
     * The strips' destinations never overlap. This default goes through the host (correct
     * on any backend, slow on a device); backends override it.
     */
    default void copyStrips(Tensor src, Tensor dst, IntVector strips, int count, int width) {
        float[] s = read(src), d = read(dst);
        int[] st = read(strips);
        for (int k = 0; k < count; k++) {
            System.arraycopy(s, st[4 * k] * src.cols + st[4 * k + 1] * width,
                    d, st[4 * k + 2] * dst.cols + st[4 * k + 3] * width, width);
        }
        write(dst, d);
    }

    /**
     * Random crop and horizontal flip of a batch of images (rows = channel-major pixels
     * (c, y, x) of channels x height x width, columns = samples): for sample b with params
     * (oy, ox, flip) at 3b..3b+2, oy and ox in [0, 2 pad], dst(c, y, x) = src(c, y + oy - pad,
     * x' + ox - pad) with x' = width - 1 - x when flip, else x; 0 outside the image (the crop
     * of the zero-padded image, then the flip). This default goes through the host.
     */
    default void cropFlip(Tensor src, Tensor dst, IntVector params, int channels, int height, int width, int pad,
                          int batch) {
        float[] s = read(src), d = read(dst);
        int[] pr = read(params);
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int row = (c * height + y) * width + x;
                    for (int b = 0; b < batch; b++) {
                        int sy = y + pr[3 * b] - pad, sx = (pr[3 * b + 2] != 0 ? width - 1 - x : x) + pr[3 * b + 1] - pad;
                        d[row * dst.cols + b] = sy < 0 || sy >= height || sx < 0 || sx >= width ? 0f
                                : s[((c * height + sy) * width + sx) * src.cols + b];
                    }
                }
            }
        }
        write(dst, d);
    }

    /** Waits for queued device work (for timers); a no-op on the CPU. */
    default void sync() {}

    /**
     * Whether the numbers live in host memory and every operation has finished when it
     * returns (no queue to wait for, no host overhead to measure apart, no device libraries
     * such as cuSPARSE to compare). The profiler and bench ask this, never the device name.
     */
    default boolean onHost() { return false; }

    /**
     * Bytes of device memory free for a new run, or -1 when numbers live in host memory (the Java
     * heap); runs are sized against it before they allocate. When several runs of this process
     * share the device, it is this run's share of it.
     */
    default long deviceMemoryFree() { return -1; }

    /** Bytes of device memory currently allocated by this backend (0 when host memory). */
    default long deviceBytes() { return 0; }

    @Override
    void close();
}
