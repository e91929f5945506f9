package org.g2g.profile;

import com.fasterxml.jackson.databind.JsonNode;
import org.g2g.backend.Backend;
import org.g2g.backend.cpu.ReferenceBackend;
import org.g2g.cli.Main;
import org.g2g.config.RunConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class ProfilerTest {
    /** Extra time of a slow forward call: 10x the thresholds below, so a loaded machine cannot blur them. */
    static final int SLOW_MS = 400;

    /** A reference backend whose forward calls number {@code from}..{@code to} (1-based) take SLOW_MS longer. */
    static Backend slowStart(int from, int to, AtomicInteger forwards) {
        ReferenceBackend ref = new ReferenceBackend();
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, (p, m, a) -> {
            if (m.getName().equals("forward")) {
                int k = forwards.incrementAndGet();
                if (k >= from && k <= to) Thread.sleep(SLOW_MS);
            }
            try {
                return m.invoke(ref, a);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    @Test void timerExcludesWarmUpSteps() {
        RunConfig c = FlopCountTest.tiny("dense", 8, 1);
        int warmup = 3, steps = 4, layers = 2;
        Profiler.Options o = new Profiler.Options(warmup, steps, 1, 2, List.of("dense"), false, 1, 16, 8, 0.0);
        // the calibration makes 1 warm + 3 timed forward calls; after it the warm-up steps' forwards are slow
        AtomicInteger f2 = new AtomicInteger();
        Backend be2 = slowStart(5, 4 + warmup * layers, f2);
        ProfileReport r = Profiler.run(c, o, be2, FlopCountTest.silent());
        ProfileReport.ModelProfile m = r.models().get(0);
        assertEquals(steps, m.stepsMeasured());
        assertEquals(2, m.samplesPerSecond().windows());
        assertTrue(f2.get() >= 4 + (warmup + steps) * layers, "every step ran a forward per layer");
        // a warm-up step took 2 x 400 ms of forward, so one leaked into the 4 timed steps adds >= 200 ms per step and
        // makes its 2-step window (16 samples) take >= 800 ms; a timed step of this 784-8-10 model takes a millisecond
        assertTrue(m.stepMs().forward() < SLOW_MS / 4.0, "forward ms per timed step " + m.stepMs().forward() + " includes warm-up");
        assertTrue(m.samplesPerSecond().p10() > 16 / (SLOW_MS / 1000.0), "a warm-up step's time leaked into a window");
        be2.close();
    }

    @Test void jsonHasTheDocumentedSchemaAndParsesBack(@TempDir Path dir) throws Exception {
        RunConfig c = FlopCountTest.tiny("g2g", 8, 4);
        ProfileReport r = Profiler.run(c, FlopCountTest.quick(List.of("g2g", "er", "dense")), new ReferenceBackend(),
                FlopCountTest.silent());
        Path f = dir.resolve("p.json");
        r.write(f);
        JsonNode j = ProfileReport.JSON.readTree(f.toFile());
        assertEquals("g2g-profile/1", j.get("schema").asText());
        assertEquals("reference", j.get("device").get("name").asText());
        assertTrue(j.get("device").get("calibration").get("peak_gflops").asDouble() > 0);
        assertEquals(3, j.get("models").size());
        for (JsonNode m : j.get("models")) {
            for (String k : List.of("name", "samples_per_second", "step_ms", "flops_per_step", "gflops", "peak_fraction",
                    "memory_bytes")) {
                assertTrue(m.has(k), "model lacks " + k);
            }
            for (String k : List.of("data", "forward", "input_grad", "weight_grad", "optimizer", "dst", "hebbian", "total")) {
                assertTrue(m.get("step_ms").has(k), "step_ms lacks " + k);
            }
            assertTrue(m.get("samples_per_second").get("median").asDouble() > 0);
            assertTrue(m.get("memory_bytes").has("heap_peak"));
        }
        assertEquals(3, j.get("ratios").size()); // g2g/er, g2g/dense, er/dense
        assertEquals("g2g", j.get("ratios").get(0).get("a").asText());
        // sparse models carry DST and correlation timings; the dense one has none
        assertTrue(j.get("models").get(0).get("dst_update_ms").asDouble() > 0);
        assertTrue(j.get("models").get(2).get("dst_update_ms").isNull());
        ProfileReport back = ProfileReport.read(f);
        assertEquals(ProfileReport.JSON.writeValueAsString(r), ProfileReport.JSON.writeValueAsString(back));
        assertEquals(r.models().get(0).samplesPerSecond(), back.models().get(0).samplesPerSecond());
        assertEquals(r.models().get(1).stepMs(), back.models().get(1).stepMs());
    }

    /** Runs the CLI, returns {exit code, stdout, stderr}. */
    static Object[] cli(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true));
            System.setErr(new PrintStream(e, true));
            int code = Main.run(args);
            return new Object[]{code, o.toString(), e.toString()};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test void tinyProfileEndToEnd(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("p.json"), csv = dir.resolve("p.csv");
        Object[] r = cli("profile", "--device", "cpu", "--encoder", "none", "--hidden", "16", "--layers", "2", "--groups", "4", "--batch", "16",
                "--warmup", "2", "--steps", "4", "--repeats", "2", "--compare", "g2g,dense", "--update-every", "5",
                "--calibration-size", "32", "--json", json.toString(), "--csv", csv.toString());
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("synthetic"), out);
        assertTrue(out.contains("g2g / dense: samples/s"), out);
        assertTrue(out.contains("by phase: forward "), out);
        assertTrue(out.indexOf("ratios:") > out.indexOf("samples/s"), "ratios printed last");
        assertEquals("g2g", ProfileReport.read(json).models().get(0).name());
        List<String> lines = Files.readAllLines(csv);
        assertEquals(3, lines.size());
        assertEquals(ProfileTable.CSV_HEADER, lines.get(0));
        assertTrue(lines.get(1).startsWith("g2g,g2g,784-16x2-10,"), lines.get(1));
    }

    @Test void aModelTooBigForTheHeapIsAClearError() {
        // two 30,000 x 30,000 hidden layers: masks and weights alone are ~9 GB, past the tests' 6 GB heap
        Object[] r = cli("profile", "--device", "cpu", "--hidden", "30000", "--layers", "3", "--steps", "1", "--warmup", "0",
                "--calibration-size", "16");
        assertEquals(Main.USER_ERROR, r[0]);
        String err = (String) r[2];
        assertTrue(err.startsWith("error: model g2g") && err.contains("G2G_HEAP"), err);
        assertEquals(1, err.strip().lines().count(), err);
        Object[] wide = cli("profile", "--device", "cpu", "--hidden", "60000", "--groups", "8", "--steps", "1",
                "--calibration-size", "16");
        assertEquals(Main.USER_ERROR, wide[0]);
        assertTrue(((String) wide[2]).contains("more than one Java array holds"), (String) wide[2]);
    }

    @Test void badCompareIsAUserError() {
        Object[] r = cli("profile", "--device", "cpu", "--compare", "g2g,sparse", "--calibration-size", "16");
        assertEquals(Main.USER_ERROR, r[0]);
        assertTrue(((String) r[2]).contains("'sparse' is not one of"), (String) r[2]);
    }
}
