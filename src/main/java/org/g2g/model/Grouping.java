package org.g2g.model;

import org.g2g.config.GroupingStrategy;

import java.util.Random;

/**
 * How a layer side's units are assigned to groups (the paper's "ensembles").
 * Sizes must be divisible by the group count; every group gets exactly n / G units.
 */
public enum Grouping {
    /** group = idx / (n / G): contiguous runs, keeps the spatial locality of pixels. */
    INDEX,
    /** group = idx % G: neighbouring units land in different groups. */
    INTERLEAVED,
    /** a random permutation of the INDEX labels, drawn once per layer side. */
    RANDOM;

    public int[] labels(int n, int groups, Random rng) {
        if (groups <= 0 || n % groups != 0) {
            throw new IllegalArgumentException("width " + n + " is not divisible by groups " + groups);
        }
        int per = n / groups;
        int[] g = new int[n];
        for (int i = 0; i < n; i++) {
            g[i] = switch (this) {
                case INDEX, RANDOM -> i / per;
                case INTERLEAVED -> i % groups;
            };
        }
        if (this == RANDOM) {
            for (int i = n - 1; i > 0; i--) { // Fisher-Yates keeps group sizes equal
                int j = rng.nextInt(i + 1);
                int t = g[i]; g[i] = g[j]; g[j] = t;
            }
        }
        return g;
    }

    /**
     * The grouping of sparse layer {@code layer} under a --grouping strategy: index,
     * interleaved, random, or mixer (index on even layers, interleaved on odd ones, so local
     * and mixed features alternate).
     */
    public static Grouping forLayer(GroupingStrategy strategy, int layer) {
        return switch (strategy) {
            case INDEX -> INDEX;
            case INTERLEAVED -> INTERLEAVED;
            case RANDOM -> RANDOM;
            case MIXER -> layer % 2 == 0 ? INDEX : INTERLEAVED;
        };
    }
}
