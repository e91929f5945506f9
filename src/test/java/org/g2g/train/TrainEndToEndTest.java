package org.g2g.train;

import org.g2g.UserError;
import org.g2g.config.RunConfig;
import org.g2g.io.SafeTensors;
import org.g2g.testutil.Synthetic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Whole runs on generated IDX files: learning, determinism, resume equivalence, divergence. */
class TrainEndToEndTest {
    @TempDir static Path tmp;
    static Path data;

    @BeforeAll
    static void makeData() throws Exception {
        data = Synthetic.fashionLike(tmp.resolve("data"), 1200, 400, 12, 10, 42);
    }

    static RunConfig small(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(Map.of("data", data.toString(), "hidden", 32, "layers", 2,
                "groups", 4, "epochs", 3, "batch", 64, "update-every", 10, "device", "cpu", "threads", 2));
        m.putAll(extra);
        return RunConfig.defaults().with(m);
    }

    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    static RunSummary train(RunConfig c, Path dir) {
        return TrainRun.execute(c, dir, false, false, QUIET, TrainListener.NONE);
    }

    static com.fasterxml.jackson.databind.JsonNode readTree(Path f) {
        try {
            return RunRecorder.JSON.readTree(f.toFile());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void learnsASeparableProblem() {
        RunSummary s = train(small(Map.of("prune", "magnitude", "regrow", "hebbian",
                "hidden", 64, "epochs", 5, "lr", 0.005)), tmp.resolve("learn"));
        assertTrue(s.testAccuracy() >= 0.95, "test accuracy " + s.testAccuracy());
        Path dir = tmp.resolve("learn");
        for (String f : List.of("config.json", "metrics.csv", "dst.csv", "summary.json", "model.safetensors", "checkpoint.safetensors")) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
        com.fasterxml.jackson.databind.JsonNode json = readTree(dir.resolve("summary.json"));
        for (String k : List.of("test_accuracy", "best_test_accuracy", "best_epoch", "val_accuracy", "active_params",
                "dense_params", "density", "flops_per_sample", "train_samples_per_second", "device", "seconds")) {
            assertTrue(json.has(k), k);
        }
        assertTrue(s.activeParams() < s.denseParams());
    }

    /** Metrics without the timing columns (samples_per_s, seconds). */
    static List<String> numbers(Path dir) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("metrics.csv"))) {
            String[] f = line.split(",", -1);
            out.add(String.join(",", java.util.Arrays.copyOf(f, 8)));
        }
        out.addAll(Files.readAllLines(dir.resolve("dst.csv")));
        return out;
    }

    static void assertSameModel(Path a, Path b) {
        SafeTensors.Contents ca = SafeTensors.read(a.resolve("model.safetensors"));
        SafeTensors.Contents cb = SafeTensors.read(b.resolve("model.safetensors"));
        assertEquals(ca.tensors.keySet(), cb.tensors.keySet());
        for (String k : ca.tensors.keySet()) {
            Object x = ca.tensors.get(k).data(), y = cb.tensors.get(k).data();
            if (x instanceof float[] fx) assertArrayEquals(fx, (float[]) y, 0f, k);
            else if (x instanceof byte[] bx) assertArrayEquals(bx, (byte[]) y, k);
            else assertArrayEquals((int[]) x, (int[]) y, k);
        }
    }

    @Test
    void sameSeedAndThreadsGiveIdenticalRuns() throws Exception {
        RunConfig c = small(Map.of("val-split", 200));
        train(c, tmp.resolve("det-a"));
        train(c, tmp.resolve("det-b"));
        assertEquals(numbers(tmp.resolve("det-a")), numbers(tmp.resolve("det-b")));
        assertSameModel(tmp.resolve("det-a"), tmp.resolve("det-b"));
        RunConfig other = c.with(Map.of("seed", 2L));
        train(other, tmp.resolve("det-c"));
        assertNotEquals(numbers(tmp.resolve("det-a")), numbers(tmp.resolve("det-c")));
    }

    static final class Kill extends RuntimeException {}

    @Test
    void resumedRunEndsLikeAnUninterruptedOne() throws Exception {
        RunConfig c = small(Map.of("hebbian-ema", 0.9, "epochs", 4));
        train(c, tmp.resolve("whole"));
        Path part = tmp.resolve("part");
        // 1200 / 64 = 19 steps an epoch: die in the middle of epoch 3
        TrainListener killer = new TrainListener() {
            @Override public void onStep(long step, int e, int b, int n, double sps) { if (step == 47) throw new Kill(); }
        };
        assertThrows(Kill.class, () -> TrainRun.execute(c, part, false, false, QUIET, killer));
        assertFalse(Files.exists(part.resolve("summary.json")));
        assertEquals(3, Files.readAllLines(part.resolve("metrics.csv")).size(), "header + 2 finished epochs");
        RunSummary s = TrainRun.execute(c, part, true, false, QUIET, TrainListener.NONE);
        assertEquals("finished", s.status());
        assertEquals(numbers(tmp.resolve("whole")), numbers(part));
        assertSameModel(tmp.resolve("whole"), part);
        // a finished run is not trained again
        RunSummary again = TrainRun.execute(c, part, true, false, QUIET, TrainListener.NONE);
        assertEquals(s.testAccuracy(), again.testAccuracy());
    }

    @Test
    void resumeWithADifferentConfigIsRefusedUnlessForced() {
        RunConfig c = small(Map.of("epochs", 1));
        Path dir = tmp.resolve("refuse");
        train(c, dir);
        RunConfig changed = c.with(Map.of("lr", 0.01));
        UserError e = assertThrows(UserError.class, () -> TrainRun.execute(changed, dir, true, false, QUIET, TrainListener.NONE));
        assertTrue(e.getMessage().contains("lr"), e.getMessage());
        assertTrue(e.getMessage().contains("--force"), e.getMessage());
        UserError exists = assertThrows(UserError.class, () -> train(c, dir));
        assertTrue(exists.getMessage().contains("already holds a run"), exists.getMessage());
    }

    @Test
    void divergingLossStopsWithAMessage() {
        RunConfig c = small(Map.of("lr", 1e9, "optimizer", "sgd", "momentum", 0.0, "epochs", 2));
        UserError e = assertThrows(UserError.class, () -> train(c, tmp.resolve("nan")));
        assertTrue(e.getMessage().contains("diverged"), e.getMessage());
    }

    @Test
    void denseAndErBaselinesTrain() {
        RunSummary d = train(small(Map.of("model", "dense", "epochs", 1)), tmp.resolve("dense"));
        assertEquals(1.0, d.density(), 0);
        RunSummary er = train(small(Map.of("model", "er", "epochs", 1)), tmp.resolve("er"));
        // matched to the G2G density of 4 groups at p' = 0.15: 1/4 + 3/4 * 0.15
        assertEquals(0.3625, er.density(), 0.03);
        RunSummary m = train(small(Map.of("model", "dense", "match-params", true, "epochs", 1)), tmp.resolve("dense-m"));
        int[] w = m.widths().stream().mapToInt(o -> ((Number) o).intValue()).toArray();
        assertTrue(w[1] < 32, "narrowed width " + w[1]);
    }

    @Test
    void sgdNesterovAndPearsonRun() {
        RunSummary s = train(small(Map.of("optimizer", "sgd", "nesterov", true, "lr", 0.05,
                "hebbian", "pearson", "prune", "three", "regrow", "gradient")), tmp.resolve("sgd"));
        assertTrue(s.testAccuracy() > 0.5, "accuracy " + s.testAccuracy());
    }
}
