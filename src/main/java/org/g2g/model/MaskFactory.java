package org.g2g.model;

import java.util.Random;

/**
 * The one place masks are born: dense, G2G (groups, p_intra, p_inter, grouping) and
 * Erdos-Renyi at a density. After this only the DST step changes a mask.
 */
public final class MaskFactory {
    private MaskFactory() {}

    /** G2G: edge (o, i) kept with p_intra inside a group, p_inter across groups. */
    public static Mask g2g(int out, int in, int groups, double pIntra, double pInter,
                           Grouping grouping, Random rng) {
        int[] go = grouping.labels(out, groups, rng);
        int[] gi = grouping.labels(in, groups, rng);
        boolean[] a = new boolean[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double p = go[o] == gi[i] ? pIntra : pInter;
                a[o * in + i] = p >= 1.0 || (p > 0 && rng.nextDouble() < p);
            }
        }
        return new Mask(out, in, a, go, gi);
    }

    /** Erdos-Renyi: every edge independently with probability {@code density}. */
    public static Mask erdosRenyi(int out, int in, double density, Random rng) {
        boolean[] a = new boolean[out * in];
        for (int k = 0; k < a.length; k++) a[k] = density >= 1.0 || rng.nextDouble() < density;
        return new Mask(out, in, a, null, null);
    }

    /** Expected density of a G2G layer: 1/G * p_intra + (1 - 1/G) * p_inter. */
    public static double g2gDensity(int groups, double pIntra, double pInter) {
        return pIntra / groups + (1.0 - 1.0 / groups) * pInter;
    }

    /** p_inter that gives a G2G layer the expected density d (for --density with --model g2g). */
    public static double pInterForDensity(int groups, double pIntra, double density) {
        if (groups == 1) return 0.0;
        return (density - pIntra / groups) / (1.0 - 1.0 / groups);
    }
}
