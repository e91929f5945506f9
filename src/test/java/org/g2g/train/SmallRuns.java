package org.g2g.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.g2g.config.RunConfig;
import org.g2g.io.SafeTensors;
import org.g2g.testutil.Synthetic;

/**
 * The whole-run tests' one set-up: generated Fashion-like 12 x 12 IDX data (1200 train, 400 test),
 * a small G2G config over it, quiet runs, a run killed at a step, and run directories compared
 * (metrics without timings, dst.csv, every model tensor).
 */
final class SmallRuns {
    private SmallRuns() {}

    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    /** Thrown by {@link #killAt}'s listener: a run dying mid-epoch. */
    static final class Kill extends RuntimeException {}

    static Path data(Path tmp) throws IOException {
        return Synthetic.fashionLike(tmp.resolve("data"), 1200, 400, 12, 10, 42);
    }

    /** Hidden 32 x 2 layers, 4 groups, 3 epochs of batch 64, DST every 10 steps, 2 CPU threads; extra wins. */
    static RunConfig config(Path data, Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(Map.of("data", data.toString(), "hidden", 32, "layers", 2,
                "groups", 4, "epochs", 3, "batch", 64, "update-every", 10, "device", "cpu", "threads", 2));
        m.putAll(extra);
        return RunConfig.defaults().with(m);
    }

    static RunSummary train(RunConfig c, Path dir) {
        return TrainRun.execute(c, dir, false, false, QUIET, TrainListener.NONE);
    }

    /** A listener that kills the run at optimizer step `step`. */
    static TrainListener killAt(long step) {
        return new TrainListener() {
            @Override public void onStep(long s, int e, int b, int n, double sps) { if (s == step) throw new Kill(); }
        };
    }

    /** Runs c into part killed at killStep, resumes it, and asserts it ends exactly like the uninterrupted run in whole. */
    static void assertResumesLike(RunConfig c, Path whole, Path part, long killStep) throws Exception {
        assertThrows(Kill.class, () -> TrainRun.execute(c, part, false, false, QUIET, killAt(killStep)));
        TrainRun.execute(c, part, true, false, QUIET, TrainListener.NONE);
        assertEquals(numbers(whole), numbers(part));
        assertSameModel(whole, part);
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
}
