package org.g2g.sweep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.g2g.backend.cuda.Cuda;
import org.g2g.backend.cuda.CudaStatus;
import org.g2g.backend.cuda.GpuTests;
import org.g2g.config.DeviceSpec;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `g2g sweep --parallel K` on CUDA: K runs at once in one process, each on its own stream with its
 * own CUDA graphs and memory (on one device, or spread with --devices), give the same files as the
 * runs made one by one: model and checkpoint byte for byte, every metric but the timings. On the
 * emulated device the workers' device work interleaves on its one device thread, so a missing
 * synchronisation, a capture that another run's copy breaks, or state shared between backends
 * shows up as a difference or a failed run.
 */
@Tag("gpu")
class ConcurrentCudaSweepTest {
    @TempDir Path tmp;

    @Test
    void parallelRunsOnTheGpuMatchRunsMadeOneByOne() throws Exception {
        GpuTests.requireGpu();
        CudaStatus s = Cuda.probe();
        Path data = Fixtures.idx(tmp.resolve("data"), 256, 128);
        // threads fixed so config.json (and the model's metadata) do not differ by the worker count
        Grid g = Grid.expand(SweepSpec.parse(SweepRunnerTest.spec(data, 2), "tiny.yaml"), Map.of("device", "cuda", "threads", 1));
        Path one = tmp.resolve("one"), three = tmp.resolve("three"), spread = tmp.resolve("spread");
        assertEquals(5, SweepRunnerTest.run(g, one, Shard.ALL, 1).finished());
        assertEquals(5, SweepRunnerTest.run(g, three, Shard.ALL, 3).finished());
        // two devices where there are two (the emulated device is run with two), else both workers on cuda:0
        List<DeviceSpec> devices = s.gpus().size() >= 2 ? List.of(DeviceSpec.parse("cuda:0"), DeviceSpec.parse("cuda:1"))
                : List.of(DeviceSpec.parse("cuda:0"), DeviceSpec.parse("cuda:0"));
        SweepRunner.Result r = new SweepRunner(g, spread, new SweepRunner.Options(Shard.ALL, 2, Fixtures.FAST,
                Fixtures.sink(new java.io.ByteArrayOutputStream()), devices)).run();
        assertEquals(5, r.finished(), r.failed().toString());
        SweepRunnerTest.assertEveryRunFinishedOnce(g, three);
        SweepRunnerTest.assertEveryRunFinishedOnce(g, spread);
        Set<String> used = new TreeSet<>();
        for (Grid.Point p : g.points) {
            for (Path other : List.of(three, spread)) {
                Path a = one.resolve(p.name()), b = other.resolve(p.name());
                // --devices changes each run's --device (config.json and the model's metadata say which); the
                // checkpoint's header holds the metric rows with their timings: tensors must match bit for bit
                List<String> whole = other == three ? List.of("model.safetensors", "dst.csv") : List.of("dst.csv");
                for (String f : whole) {
                    assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), b.resolve(f) + " differs from " + a);
                }
                if (other == three) { // config.json's "run" block says when and by which process: the options must match
                    var ca = (com.fasterxml.jackson.databind.node.ObjectNode) org.g2g.train.RunRecorder.JSON.readTree(a.resolve("config.json").toFile());
                    var cb = (com.fasterxml.jackson.databind.node.ObjectNode) org.g2g.train.RunRecorder.JSON.readTree(b.resolve("config.json").toFile());
                    assertEquals(ca.remove("run").get("config_sha256"), cb.remove("run").get("config_sha256"), "config hash of " + b);
                    assertEquals(ca, cb, b.resolve("config.json") + " differs from " + a);
                }
                for (String f : List.of("model.safetensors", "checkpoint.safetensors")) {
                    assertArrayEquals(tensorBytes(a.resolve(f)), tensorBytes(b.resolve(f)), "tensors of " + b.resolve(f));
                }
                assertEquals(untimed(a.resolve("metrics.csv"), "samples_per_s", "seconds"),
                        untimed(b.resolve("metrics.csv"), "samples_per_s", "seconds"), "metrics of " + b);
                assertEquals(untimed(a.resolve("metrics_steps.csv"), "samples_per_s"),
                        untimed(b.resolve("metrics_steps.csv"), "samples_per_s"), "step metrics of " + b);
            }
            Matcher m = Pattern.compile("(?m)^device: (cuda:\\d+) ").matcher(Files.readString(spread.resolve(p.name()).resolve("log.txt")));
            assertTrue(m.find(), "device line in the log of " + p.name());
            used.add(m.group(1));
        }
        Set<String> wanted = new TreeSet<>();
        for (DeviceSpec d : devices) wanted.add(d.toString());
        assertEquals(wanted, used, "--devices spreads the workers over the devices");
    }

    /** The data section of a safetensors file (after the 8-byte length and the JSON header). */
    private static byte[] tensorBytes(Path f) throws IOException {
        byte[] all = Files.readAllBytes(f);
        long n = java.nio.ByteBuffer.wrap(all, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        return java.util.Arrays.copyOfRange(all, (int) (8 + n), all.length);
    }

    /** The CSV without the named (timing) columns. */
    private static List<String> untimed(Path csv, String... drop) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        List<String> head = List.of(lines.get(0).split(","));
        Set<Integer> skip = new TreeSet<>();
        for (String d : drop) {
            int i = head.indexOf(d);
            assertTrue(i >= 0, d + " not in " + head);
            skip.add(i);
        }
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            String[] f = l.split(",", -1);
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < f.length; i++) if (!skip.contains(i)) b.append(f[i]).append(',');
            out.add(b.toString());
        }
        return out;
    }
}
