package org.g2g.dst;

import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
import org.g2g.backend.Tensor;

/**
 * Co-activation scores of one layer: the correlation between every output unit's and every
 * input unit's activations over a batch, as one (out x B)(B x in) product on the backend.
 * With EMA factor beta > 0 the scores of the last {@link #window} batches before an update
 * are averaged exponentially; older batches would weigh under e^-3 and are skipped, which
 * keeps the cost off the steps far from an update.
 */
public final class HebbianScores implements AutoCloseable {
    private final Backend be;
    private final Correlation kind;
    private final float beta;
    private final Tensor acc;
    private final Tensor cur;
    private boolean fresh = true;

    public HebbianScores(Backend be, int out, int in, Correlation kind, double beta) {
        this.be = be;
        this.kind = kind;
        this.beta = (float) beta;
        this.acc = be.vector(out * in);
        this.cur = beta > 0 ? be.vector(out * in) : null;
    }

    /** Batches before an update that contribute to the EMA (1 without EMA). */
    public static int window(double beta, int updateEvery) {
        if (beta <= 0) return 1;
        return (int) Math.min(updateEvery, Math.ceil(3.0 / (1.0 - beta)));
    }

    /** Adds the batch in y (out x B) and x (in x B) to the scores. */
    public void observe(Tensor y, Tensor x, int batch) {
        queue(y, x, batch);
        observed();
    }

    /** The device work of {@link #observe} alone (a recorded step holds it); {@link #observed} follows it. */
    public void queue(Tensor y, Tensor x, int batch) {
        if (beta <= 0 || fresh) {
            be.correlation(y, x, batch, kind, acc);
        } else {
            be.correlation(y, x, batch, kind, cur);
            be.ema(acc, cur, beta);
        }
    }

    /** The host side of {@link #observe}: the window has a batch now. */
    public void observed() { fresh = false; }

    /** The scores (out x in row-major); starts a new window for the next update. */
    public float[] take() {
        fresh = true;
        return be.read(acc);
    }

    /** EMA state for checkpoints: scores and whether a window is open. */
    public float[] state() { return be.read(acc); }

    public boolean fresh() { return fresh; }

    public void restore(float[] scores, boolean isFresh) {
        be.write(acc, scores);
        fresh = isFresh;
    }

    @Override
    public void close() {
        acc.close();
        if (cur != null) cur.close();
    }
}
