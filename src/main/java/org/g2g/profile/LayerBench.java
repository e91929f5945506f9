package org.g2g.profile;

import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;

import java.util.ArrayList;
import java.util.Random;

/**
 * Times one masked layer (out x in, a batch) on a backend: forward, input gradient and weight
 * gradient separately, each the median of repeated calls after a warm one; and the dense
 * correlation product behind Hebbian regrowth.
 */
public final class LayerBench {
    private LayerBench() {}

    /**
     * Median milliseconds of each operation; layerLowMs / layerHighMs: the 25th and 75th
     * percentiles of the three operations, summed: the spread a plot shows around the layer's
     * time (a band from each operation's own repeats, not the quartiles of a timed sum).
     */
    public record Times(double forwardMs, double inputGradMs, double weightGradMs, double layerLowMs, double layerHighMs) {
        public double layerMs() { return forwardMs + inputGradMs + weightGradMs; }
    }

    /**
     * A G2G mask at an expected density: dense diagonal group blocks plus inter-group edges
     * at the p_inter that gives the density; below 1/G the blocks themselves thin out
     * (p_intra = density x G, no inter-group edges). With one group it is unstructured random
     * sparsity. Index grouping: the kernels see through any grouping's permutation.
     */
    public static Mask g2gMask(int out, int in, int groups, double density, Random rng) {
        if (density >= 1.0) return Mask.dense(out, in);
        double pIntra = Math.min(1.0, density * groups);
        double pInter = groups == 1 ? 0.0 : Math.max(0.0, (density - pIntra / groups) / (1.0 - 1.0 / groups));
        return MaskFactory.g2g(out, in, groups, pIntra, pInter, Grouping.INDEX, rng);
    }

    public static Times time(Backend be, Mask mask, int batch, double minSeconds, Random rng) {
        try (Buffers l = new Buffers(be, mask, batch, rng)) {
            double[] f = Timing.samplesMs(be, () -> be.forward(l.p, l.w, l.b, l.x, l.y, batch, true), 1, minSeconds, 3, 500);
            double[] i = Timing.samplesMs(be, () -> be.backwardInput(l.p, l.w, l.dy, l.dx, batch), 1, minSeconds, 3, 500);
            double[] g = Timing.samplesMs(be, () -> be.weightGrad(l.p, l.x, l.dy, l.gw, l.gb, batch), 1, minSeconds, 3, 500);
            return new Times(Timing.median(f), Timing.median(i), Timing.median(g),
                    Timing.percentile(f, 25) + Timing.percentile(i, 25) + Timing.percentile(g, 25),
                    Timing.percentile(f, 75) + Timing.percentile(i, 75) + Timing.percentile(g, 75));
        }
    }

    /**
     * Median milliseconds of one training pass of the layer as a step runs it: forward (bias,
     * ReLU) then {@link Backend#layerBackward} (weight, bias and input gradients, ReLU mask).
     */
    public static double trainingMs(Backend be, Mask mask, int batch, double minSeconds, Random rng) {
        try (Buffers l = new Buffers(be, mask, batch, rng)) {
            return Timing.median(Timing.samplesMs(be, () -> {
                be.forward(l.p, l.w, l.b, l.x, l.y, batch, true);
                be.layerBackward(l.p, l.w, l.x, l.dy, l.gw, l.gb, l.dx, true, batch);
            }, 1, minSeconds, 3, 500));
        }
    }

    /**
     * A layer's plan and every tensor its three products touch, filled with random values: one
     * home for both timings. What was allocated before a failure is freed (device memory).
     */
    private static final class Buffers implements AutoCloseable {
        private final ArrayList<Tensor> owned = new ArrayList<>();
        final LayerPlan p;
        final Tensor w, gw, b, gb, x, y, dy, dx;

        Buffers(Backend be, Mask mask, int batch, Random rng) {
            int out = mask.out, in = mask.in;
            p = be.plan(mask);
            try {
                w = own(be.vector(p.packedSize()));
                gw = own(be.vector(p.packedSize()));
                b = own(be.vector(out));
                gb = own(be.vector(out));
                x = own(be.tensor(in, batch));
                y = own(be.tensor(out, batch));
                dy = own(be.tensor(out, batch));
                dx = own(be.tensor(in, batch));
                be.pack(p, uniform(out * in, rng, (float) Math.sqrt(3.0 / in)), w);
                be.write(x, uniform(in * batch, rng, 1f));
                be.write(dy, uniform(out * batch, rng, 1e-2f));
            } catch (RuntimeException | Error e) {
                close();
                throw e;
            }
        }

        private Tensor own(Tensor t) {
            owned.add(t);
            return t;
        }

        @Override
        public void close() {
            for (int k = owned.size() - 1; k >= 0; k--) owned.get(k).close();
            owned.clear();
            p.close();
        }
    }

    /** Median milliseconds of the cosine correlation of out x batch against in x batch activations. */
    public static double correlation(Backend be, int out, int in, int batch, double minSeconds, Random rng) {
        try (Tensor y = be.tensor(out, batch);
             Tensor x = be.tensor(in, batch);
             Tensor s = be.vector(out * in)) {
            be.write(y, uniform(out * batch, rng, 1f));
            be.write(x, uniform(in * batch, rng, 1f));
            return Timing.median(Timing.samplesMs(be, () -> be.correlation(y, x, batch, Correlation.COSINE, s), 1,
                    minSeconds, 3, 500));
        }
    }

    /** Uniform in [-scale, scale): cheap enough for 16M-entry layers. */
    static float[] uniform(int n, Random rng, float scale) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) a[k] = (2 * rng.nextFloat() - 1) * scale;
        return a;
    }
}
