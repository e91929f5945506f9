package org.g2g.sweep;

import org.g2g.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SweepCommandTest {
    @TempDir Path tmp;

    private String out;

    private int g2g(String... args) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        PrintStream old = System.out, oldErr = System.err;
        try {
            PrintStream p = new PrintStream(b, true, StandardCharsets.UTF_8);
            System.setOut(p);
            System.setErr(p);
            return Main.run(args);
        } finally {
            System.setOut(old);
            System.setErr(oldErr);
            out = b.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void shardsInParallelThenMergeThenRerunFromTheSavedSpec() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 256, 128);
        Path spec = Fixtures.spec(tmp, "name: cli\nbase: {dataset: fashion-mnist, device: cpu, hidden: 16, layers: 2, groups: 4, batch: 32}\n"
                + "grid: {seed: [1, 2], model: [dense, g2g, er]}\n");
        String a = tmp.resolve("a").toString(), b = tmp.resolve("b").toString(), m = tmp.resolve("m").toString();
        String[] common = {"--data", data.toString(), "--epochs", "1", "--heartbeat", "0.1", "--stale-after", "1"};

        assertEquals(0, g2g(cat(new String[]{"sweep", "--spec", spec.toString(), "--out", a, "--dry-run"}, common)), out);
        assertTrue(out.contains("6 runs") && out.contains("seed=2_model=er"), out);

        assertEquals(0, g2g(cat(new String[]{"sweep", "--spec", spec.toString(), "--out", a, "--shard", "0/2", "--parallel", "2", "--no-steal"}, common)), out);
        assertTrue(out.contains("3 of 3 runs finished"), out);
        assertEquals(0, g2g(cat(new String[]{"sweep", "--spec", spec.toString(), "--out", b, "--shard", "1/2", "--no-steal"}, common)), out);
        assertEquals(0, g2g("sweep", "merge", "--out", m, a, b), out);
        assertTrue(out.contains("6 of 6 runs finished"), out);
        Grid g = Grid.expand(SweepSpec.read(spec), Map.of("data", data.toString(), "epochs", "1"));
        SweepRunnerTest.assertEveryRunFinishedOnce(g, Path.of(m));

        // the same sweep again, from the spec saved in the directory: nothing left to do
        assertEquals(0, g2g("sweep", "--out", m), out);
        assertTrue(out.contains("6 finished already") && out.contains("6 of 6 runs finished"), out);
        SweepRunnerTest.assertEveryRunFinishedOnce(g, Path.of(m));
        assertTrue(Files.readString(Path.of(m, "summary.md")).contains("| model=g2g | 2 |"));

        assertEquals(2, g2g("sweep", "--spec", spec.toString(), "--seed", "3"), out);
        assertTrue(out.contains("error: option --seed: swept by the grid"), out);
        assertEquals(2, g2g("sweep", "--spec", spec.toString(), "--shard", "2/2"), out);
        assertEquals(2, g2g("sweep", "merge", tmp.resolve("nothing").toString()), out);
    }

    private static String[] cat(String[] a, String[] b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
