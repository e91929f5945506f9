package org.g2g.train;

import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.backend.Tensor;
import org.g2g.model.PatchEncoder;

/**
 * The patch encoder on a backend. The convolution with kernel = stride = patch size is one
 * dense layer applied to (patches x batch) columns: the pixels of a batch are gathered once
 * into cols (patch inputs x (patch, sample)), column p * batch + b holding patch p of sample
 * b; the backend's dense kernels compute y = ReLU(W cols + bias); y is then reshaped into the
 * sparse network's input, feature p * outChannels + n of sample b. The reshape is a
 * permutation, so the gradient goes back through the inverse strips. No gradient flows to
 * the pixels.
 */
public final class Encoder implements AutoCloseable {
    public final PatchEncoder spec;
    public final Layer layer;
    /** The batch's pixels (pixels x batch), where the data gather writes. */
    public final Tensor input;
    private final Tensor cols;
    private final Tensor y;
    private final Tensor gy;
    private final IntVector gatherStrips;
    private final IntVector toFeatures;
    private final IntVector fromFeatures;

    Encoder(Backend be, PatchEncoder spec, int slots, int batchCapacity, float[] w0, float[] b0) {
        this.spec = spec;
        this.layer = new Layer(be, spec.mask(), true, false, slots, w0, b0);
        int P = spec.patches(), K = spec.patchSize(), N = spec.outChannels();
        input = be.tensor(spec.pixels(), batchCapacity);
        cols = be.tensor(K, P * batchCapacity);
        y = be.tensor(N, P * batchCapacity);
        gy = be.tensor(N, P * batchCapacity);
        int[] g = new int[4 * P * K];
        for (int p = 0, s = 0; p < P; p++) {
            for (int k = 0; k < K; k++, s++) {
                g[4 * s] = spec.pixel(p, k);
                g[4 * s + 2] = k;
                g[4 * s + 3] = p;
            }
        }
        int[] to = new int[4 * P * N], from = new int[4 * P * N];
        for (int p = 0, s = 0; p < P; p++) {
            for (int n = 0; n < N; n++, s++) {
                int[] a = {n, p, p * N + n, 0};
                System.arraycopy(a, 0, to, 4 * s, 4);
                int[] r = {p * N + n, 0, n, p};
                System.arraycopy(r, 0, from, 4 * s, 4);
            }
        }
        gatherStrips = ints(be, g);
        toFeatures = ints(be, to);
        fromFeatures = ints(be, from);
    }

    private static IntVector ints(Backend be, int[] a) {
        IntVector v = be.ints(a.length);
        be.write(v, a);
        return v;
    }

    /** features (patches * outChannels x batch) = the encoded input pixels. */
    public void forward(Backend be, Tensor features, int batch) {
        int P = spec.patches();
        be.copyStrips(input, cols, gatherStrips, P * spec.patchSize(), batch);
        be.forward(layer.plan, layer.w, layer.b, cols, y, P * batch, true);
        be.copyStrips(y, features, toFeatures, P * spec.outChannels(), batch);
    }

    /** Weight and bias gradients from dL/dfeatures (already through the ReLU mask). */
    public void backward(Backend be, Tensor gradFeatures, int batch) {
        int P = spec.patches();
        be.copyStrips(gradFeatures, gy, fromFeatures, P * spec.outChannels(), batch);
        be.weightGrad(layer.plan, cols, gy, layer.gw, layer.gb, P * batch);
    }

    @Override
    public void close() {
        layer.close();
        input.close();
        cols.close();
        y.close();
        gy.close();
        gatherStrips.close();
        toFeatures.close();
        fromFeatures.close();
    }
}
