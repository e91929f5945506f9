package org.g2g.train;

import org.g2g.UserError;
import org.g2g.config.RunConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.g2g.train.SmallRuns.*;

/** Whole runs on generated IDX files: learning, determinism, resume equivalence, divergence. */
class TrainEndToEndTest {
    @TempDir static Path tmp;
    static Path data;

    @BeforeAll
    static void makeData() throws Exception {
        data = SmallRuns.data(tmp);
    }

    static RunConfig small(Map<String, Object> extra) { return SmallRuns.config(data, extra); }

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

    @Test
    void resumedRunEndsLikeAnUninterruptedOne() throws Exception {
        RunConfig c = small(Map.of("hebbian-ema", 0.9, "epochs", 4));
        train(c, tmp.resolve("whole"));
        Path part = tmp.resolve("part");
        // 1200 / 64 = 19 steps an epoch: die in the middle of epoch 3
        assertThrows(Kill.class, () -> TrainRun.execute(c, part, false, false, QUIET, killAt(47)));
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
