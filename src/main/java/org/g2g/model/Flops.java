package org.g2g.model;

import java.util.List;

/**
 * FLOP accounting from active edges (a multiply-add = 2 FLOPs). Training per sample:
 * forward, weight gradient, and input gradient for every layer but the first (whose input
 * is data); biases and elementwise work are ignored as they are O(units). With a patch
 * encoder, the encoder's forward and weight gradient are added and the first sparse layer
 * needs its input gradient too (the encoder's own input is data).
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

    public static long train(List<Mask> masks) { return train(masks, null); }

    public static long trainDense(List<Mask> masks) { return trainDense(masks, null); }

    public static long forward(List<Mask> masks, PatchEncoder enc) {
        return forward(masks) + (enc == null ? 0 : enc.forwardFlops());
    }

    public static long forwardDense(List<Mask> masks, PatchEncoder enc) {
        return forwardDense(masks) + (enc == null ? 0 : enc.forwardFlops());
    }

    public static long train(List<Mask> masks, PatchEncoder enc) {
        long f = enc == null ? 0 : 2 * enc.forwardFlops();
        for (int l = 0; l < masks.size(); l++) {
            long e = masks.get(l).activeCount();
            f += 2 * e * (l == 0 && enc == null ? 2 : 3);
        }
        return f;
    }

    public static long trainDense(List<Mask> masks, PatchEncoder enc) {
        long f = enc == null ? 0 : 2 * enc.forwardFlops();
        for (int l = 0; l < masks.size(); l++) {
            Mask m = masks.get(l);
            f += 2L * m.out * m.in * (l == 0 && enc == null ? 2 : 3);
        }
        return f;
    }
}
