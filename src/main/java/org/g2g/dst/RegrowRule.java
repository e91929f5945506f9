package org.g2g.dst;

import org.g2g.config.Regrow;

import java.util.Random;

/**
 * Chooses k inactive edges to add: hebbian takes the highest activation-correlation scores
 * (the paper's rule), gradient the largest |dense gradient| (RigL), random any (SET; the
 * ablation that often matches co-activation regrowth on MLPs). Edges pruned in the same
 * update are eligible, so a rule may undo its own prune; DST statistics count that.
 */
public enum RegrowRule {
    HEBBIAN, RANDOM, GRADIENT;

    public static RegrowRule of(Regrow r) {
        return switch (r) {
            case HEBBIAN -> HEBBIAN;
            case RANDOM -> RANDOM;
            case GRADIENT -> GRADIENT;
        };
    }

    public boolean needsScores() { return this != RANDOM; }

    /** scores: correlation (hebbian) or dense gradient (gradient), out x in row-major. */
    public int[] choose(boolean[] active, float[] scores, int k, Random rng) {
        int[] c = new int[active.length];
        int n = 0;
        for (int e = 0; e < active.length; e++) if (!active[e]) c[n++] = e;
        if (this == RANDOM) return PruneRule.sample(c, n, k, rng);
        float[] s = scores;
        if (this == GRADIENT) {
            s = new float[scores.length];
            for (int j = 0; j < n; j++) s[c[j]] = Math.abs(scores[c[j]]);
        }
        return TopK.select(s, c, n, k, true);
    }
}
