package org.g2g.model;

import java.util.List;

/**
 * FLOP accounting from active edges (a multiply-add = 2 FLOPs). Training per sample:
 * forward, weight gradient, and input gradient for every layer but the first (whose input
 * is data); biases and elementwise work are ignored as they are O(units).
 */
public final class Flops {
    private Flops() {}

    public static long forward(List<Mask> masks) {
        long f = 0;
        for (Mask m : masks) f += 2 * m.activeCount();
        return f;
    }

    public static long forwardDense(List<Mask> masks) {
        long f = 0;
        for (Mask m : masks) f += 2L * m.out * m.in;
        return f;
    }

    public static long train(List<Mask> masks) {
        long f = 0;
        for (int l = 0; l < masks.size(); l++) {
            long e = masks.get(l).activeCount();
            f += 2 * e * (l == 0 ? 2 : 3);
        }
        return f;
    }

    public static long trainDense(List<Mask> masks) {
        long f = 0;
        for (int l = 0; l < masks.size(); l++) {
            Mask m = masks.get(l);
            f += 2L * m.out * m.in * (l == 0 ? 2 : 3);
        }
        return f;
    }
}
