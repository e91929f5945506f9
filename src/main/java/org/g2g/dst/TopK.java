package org.g2g.dst;

import java.util.Arrays;

/**
 * Picks the k candidates with the largest (or smallest) score. Keys pack a float's sortable
 * bits above the candidate index, so one primitive sort ranks by score and breaks ties by
 * index: deterministic, and no boxing over a million candidates.
 */
public final class TopK {
    private TopK() {}

    /** Indices (from candidates) of the k largest scores when largest, else the k smallest. */
    public static int[] select(float[] score, int[] candidates, int n, int k, boolean largest) {
        k = Math.min(k, n);
        if (k <= 0) return new int[0];
        long[] keys = new long[n];
        for (int c = 0; c < n; c++) {
            int idx = candidates[c];
            float s = score[idx];
            if (Float.isNaN(s)) s = largest ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
            int bits = Float.floatToIntBits(s);
            int sortable = bits >= 0 ? bits : bits ^ 0x7fffffff; // monotone in s as a signed int
            if (largest) sortable = ~sortable;
            keys[c] = ((long) sortable << 32) | (idx & 0xffffffffL);
        }
        Arrays.sort(keys);
        int[] out = new int[k];
        for (int j = 0; j < k; j++) out[j] = (int) keys[j];
        return out;
    }
}
