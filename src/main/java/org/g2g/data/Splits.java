package org.g2g.data;

import org.g2g.UserError;

import java.util.Arrays;
import java.util.Random;

/** Deterministic ways to cut a Split: a seeded validation hold-out and a prefix limit. */
public final class Splits {
    private Splits() {}

    /** The training samples left after a hold-out, and the held-out validation samples. */
    public record HoldOut(Split train, Split validation) {}

    /**
     * Holds out n samples of train for validation: a Fisher-Yates shuffle of the indices
     * seeded with seed (java.util.Random, whose sequence is fixed by its specification, so
     * the same seed gives the same split on every JVM), the last n become validation.
     * Both parts keep the original sample order, so the result depends only on which
     * samples were chosen. n = 0 gives an empty validation split.
     */
    public static HoldOut holdOut(Split train, int n, long seed) {
        if (n < 0 || n >= train.n()) {
            throw new UserError("--val-split " + n + ": must be in [0, " + train.n()
                    + ") (the training split has " + train.n() + " samples)");
        }
        int[] idx = new int[train.n()];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Random rnd = new Random(seed);
        for (int i = idx.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = idx[i]; idx[i] = idx[j]; idx[j] = t;
        }
        int keep = train.n() - n;
        int[] kept = Arrays.copyOfRange(idx, 0, keep);
        int[] held = Arrays.copyOfRange(idx, keep, idx.length);
        Arrays.sort(kept);
        Arrays.sort(held);
        return new HoldOut(select(train, kept), select(train, held));
    }

    /** The first n samples; the split itself when it has n or fewer. */
    public static Split limit(Split s, int n) {
        if (n <= 0) throw new UserError("--limit-train/--limit-test " + n + ": must be positive");
        if (n >= s.n()) return s;
        int f = s.features();
        return new Split(Arrays.copyOf(s.x(), n * f), Arrays.copyOf(s.y(), n), n, f);
    }

    /** The samples at the given indices, in that order. */
    public static Split select(Split s, int[] idx) {
        int f = s.features();
        float[] x = new float[idx.length * f];
        int[] y = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            System.arraycopy(s.x(), idx[i] * f, x, i * f, f);
            y[i] = s.y()[idx[i]];
        }
        return new Split(x, y, idx.length, f);
    }
}
