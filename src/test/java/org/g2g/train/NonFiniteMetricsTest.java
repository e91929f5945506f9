package org.g2g.train;

import org.g2g.backend.Backend;
import org.g2g.config.RunConfig;
import org.g2g.data.Split;
import org.g2g.device.Backends;
import org.g2g.dst.DynamicSparseTraining;
import org.g2g.model.Architecture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Every metric of the model is checked before a checkpoint is written, not only the training loss. */
class NonFiniteMetricsTest {
    @TempDir Path tmp;

    @Test
    void everyFieldIsChecked() {
        EpochMetrics ok = new EpochMetrics(1, 0.5, 0.8, 0.7, 0.6, 0.75, 1e-3, 0.25, 1000, 2);
        assertNull(ok.firstNonFinite(true));
        String[] names = EpochMetrics.CSV_HEADER.split(",");
        for (int k = 1; k <= 7; k++) { // every model metric (epoch is an int; timings are not the model's)
            for (double bad : new double[]{Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
                double[] v = {0.5, 0.8, 0.7, 0.6, 0.75, 1e-3, 0.25};
                v[k - 1] = bad;
                EpochMetrics m = new EpochMetrics(1, v[0], v[1], v[2], v[3], v[4], v[5], v[6], 1000, 2);
                String why = m.firstNonFinite(true);
                assertEquals(names[k] + " is " + bad, why);
            }
        }
        // val_acc is NaN by design without a validation split
        assertNull(new EpochMetrics(1, 0.5, 0.8, Double.NaN, 0.6, 0.75, 1e-3, 0.25, 1000, 2).firstNonFinite(false));
    }

    static Split split(int n, int features, long seed, boolean poison) {
        Random r = new Random(seed);
        float[] x = new float[n * features];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(10);
            for (int k = 0; k < features; k++) x[i * features + k] = (k == y[i] ? 0.9f : 0.1f) * r.nextFloat();
        }
        if (poison) x[3 * features + 2] = Float.NaN;
        return new Split(x, y, n, features);
    }

    @Test
    void aNaNTestLossStopsTheRunBeforeItsCheckpoint() {
        for (String which : new String[]{"test", "val"}) {
            RunConfig c = RunConfig.defaults().with(Map.of("hidden", 16, "layers", 1, "groups", 4, "epochs", 2, "batch", 50,
                    "device", "cpu", "threads", 1));
            Random rng = new Random(1);
            Architecture arch = Architecture.build(c, 16, 10, rng);
            Optimizer opt = Optimizer.from(c);
            Path dir = tmp.resolve(which);
            Split train = split(100, 16, 1, false);
            try (Backend be = Backends.open(c.deviceSpec(), 1, c.sparseEngine(), null);
                 Network net = new Network(be, arch.widths(), arch.masks(), arch, opt, c.batch(), Network.initWeights(arch, rng), null);
                 DynamicSparseTraining dst = new DynamicSparseTraining(c, net, Trainer.totalSteps(c, train.n()));
                 ResidentSplit val = new ResidentSplit(be, split(40, 16, 2, which.equals("val")));
                 ResidentSplit test = new ResidentSplit(be, split(40, 16, 3, which.equals("test")))) {
                RunRecorder rec = new RunRecorder(dir);
                Trainer t = new Trainer(c, net, dst, rec, TrainListener.NONE, TrainRun.configJson(c), Map.of(), false);
                DivergedError e = assertThrows(DivergedError.class, () -> t.run(train, val, test));
                assertTrue(e.getMessage().contains(which + "_loss is NaN in epoch 1"), e.getMessage());
                assertTrue(e.getMessage().contains("(none yet)"), e.getMessage());
                assertFalse(Files.exists(rec.checkpoint()), "no checkpoint with a NaN metric");
                assertFalse(Files.exists(rec.model()));
                assertEquals(3, e.exitCode(), "a diverged run exits with 3");
            }
        }
    }
}
