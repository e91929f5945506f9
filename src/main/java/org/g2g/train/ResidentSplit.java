package org.g2g.train;

import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.backend.Tensor;
import org.g2g.data.Split;

/** A split resident on the backend, and mean loss / accuracy of a network over it. */
public final class ResidentSplit implements AutoCloseable {
    public final Tensor x;
    public final IntVector y;
    public final IntVector order;
    public final int n;
    /** Training augmentation applied by the trainer's gather, or null (never used by evaluate). */
    public final Augmenter augmenter;

    public ResidentSplit(Backend be, Split s) { this(be, s, null); }

    public ResidentSplit(Backend be, Split s, Augmenter augmenter) {
        this.augmenter = augmenter;
        this.n = s.n();
        this.x = be.tensor(s.n(), s.features());
        be.write(x, s.x());
        this.y = be.ints(s.n());
        be.write(y, s.y());
        this.order = be.ints(s.n());
        int[] id = new int[s.n()];
        for (int k = 0; k < id.length; k++) id[k] = k;
        be.write(order, id);
    }

    /** {mean loss, accuracy} of net over this split, in its order. */
    public double[] evaluate(Network net) {
        net.takeStats();
        for (int off = 0; off < n; off += net.batchCapacity) {
            int bs = Math.min(net.batchCapacity, n - off);
            net.be.gather(x, y, order, off, bs, net.input(), net.labels);
            net.forward(bs);
            net.loss(bs, false);
        }
        double[] s = net.takeStats();
        return new double[]{s[0] / n, s[1] / n};
    }

    @Override
    public void close() {
        x.close();
        y.close();
        order.close();
        if (augmenter != null) augmenter.close();
    }
}
