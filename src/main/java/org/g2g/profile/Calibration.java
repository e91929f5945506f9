package org.g2g.profile;

import org.g2g.backend.Backend;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.model.Mask;

import java.util.Random;

/**
 * The device's measured peak: a dense GEMM through the backend's own dense kernel (the plan of
 * a fully dense mask, so cuBLAS on the GPU and the CPU backend's tiled GEMM on the CPU),
 * the same code path dense baselines train with. Peak = best call over a short run.
 */
public final class Calibration {
    private Calibration() {}

    /** Default shapes: big enough to reach the kernel's steady rate, small enough for a second of work. */
    public static int defaultSize(Backend be) { return be.onHost() ? 1024 : 4096; }

    public static int defaultBatch(Backend be) { return be.onHost() ? 256 : 2048; }


    public static ProfileReport.Calibration measure(Backend be, int n, int batch, double minSeconds) {
        Mask m = Mask.dense(n, n);
        Random rng = new Random(7);
        try (LayerPlan p = be.plan(m);
             Tensor w = be.vector(p.packedSize());
             Tensor b = be.vector(n);
             Tensor x = be.tensor(n, batch);
             Tensor y = be.tensor(n, batch)) {
            be.pack(p, randoms(n * n, rng, 0.05f), w);
            be.write(x, randoms(n * batch, rng, 1f));
            double[] ms = Timing.samplesMs(be, () -> be.forward(p, w, b, x, y, batch, false), 1, minSeconds, 3, 200);
            double best = Timing.min(ms);
            double flops = 2.0 * n * n * batch;
            return new ProfileReport.Calibration("dense forward (" + be.name() + " dense plan)", n, n, batch, best,
                    flops / (best / 1e3) / 1e9);
        }
    }

    static float[] randoms(int n, Random rng, float scale) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) a[k] = (float) rng.nextGaussian() * scale;
        return a;
    }
}
