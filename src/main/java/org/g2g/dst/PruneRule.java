package org.g2g.dst;

import org.g2g.config.Prune;

import java.util.Random;

/**
 * Chooses which k active edges to remove. Magnitude removes the smallest |w| (SET/RigL);
 * hebbian the lowest co-activation score; random any; thirds (--prune three) takes a third
 * of the budget each from magnitude, random and hebbian in that order (an inferred variant).
 */
public enum PruneRule {
    MAGNITUDE, RANDOM, HEBBIAN, THIRDS;

    /** The rule for a --prune choice; null for none (no DST). */
    public static PruneRule of(Prune p) {
        return switch (p) {
            case MAGNITUDE -> MAGNITUDE;
            case RANDOM -> RANDOM;
            case HEBBIAN -> HEBBIAN;
            case THIRDS -> THIRDS;
            case NONE -> null;
        };
    }

    public boolean needsScores() { return this == HEBBIAN || this == THIRDS; }

    /**
     * Marks k active edges as pruned in {@code pruned} (indices into the out x in matrix).
     * active/pruned are row-major flags; scores may be null unless needsScores().
     */
    public int[] choose(boolean[] active, float[] w, float[] scores, int k, Random rng) {
        return switch (this) {
            case MAGNITUDE -> byMagnitude(active, new boolean[active.length], w, k);
            case RANDOM -> byRandom(active, new boolean[active.length], k, rng);
            case HEBBIAN -> byScore(active, new boolean[active.length], scores, k);
            case THIRDS -> {
                boolean[] taken = new boolean[active.length];
                int a = k / 3, b = k / 3, c = k - a - b;
                int[] p1 = byMagnitude(active, taken, w, a);
                mark(taken, p1);
                int[] p2 = byRandom(active, taken, b, rng);
                mark(taken, p2);
                int[] p3 = byScore(active, taken, scores, c);
                yield concat(p1, p2, p3);
            }
        };
    }

    private static int[] candidates(boolean[] active, boolean[] taken, int[] count) {
        int[] c = new int[active.length];
        int n = 0;
        for (int e = 0; e < active.length; e++) if (active[e] && !taken[e]) c[n++] = e;
        count[0] = n;
        return c;
    }

    static int[] byMagnitude(boolean[] active, boolean[] taken, float[] w, int k) {
        int[] n = new int[1];
        int[] c = candidates(active, taken, n);
        float[] mag = new float[w.length];
        for (int j = 0; j < n[0]; j++) mag[c[j]] = Math.abs(w[c[j]]);
        return TopK.select(mag, c, n[0], k, false);
    }

    static int[] byScore(boolean[] active, boolean[] taken, float[] scores, int k) {
        int[] n = new int[1];
        int[] c = candidates(active, taken, n);
        return TopK.select(scores, c, n[0], k, false);
    }

    static int[] byRandom(boolean[] active, boolean[] taken, int k, Random rng) {
        int[] n = new int[1];
        int[] c = candidates(active, taken, n);
        return sample(c, n[0], k, rng);
    }

    /** k distinct elements of c[0..n) by a partial Fisher-Yates shuffle. */
    static int[] sample(int[] c, int n, int k, Random rng) {
        k = Math.min(k, n);
        for (int j = 0; j < k; j++) {
            int r = j + rng.nextInt(n - j);
            int t = c[j]; c[j] = c[r]; c[r] = t;
        }
        return java.util.Arrays.copyOf(c, k);
    }

    private static void mark(boolean[] taken, int[] idx) { for (int e : idx) taken[e] = true; }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int o = 0;
        for (int[] p : parts) { System.arraycopy(p, 0, out, o, p.length); o += p.length; }
        return out;
    }
}
