package org.g2g.sweep;

import org.g2g.UserError;
import org.g2g.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** A sweep directory belongs to one grid; its progress counts each run once; a damaged sweep.json has a way out. */
class SweepDirectoryTest {
    @TempDir Path tmp;

    static String spec(Path data, String grid) {
        return "name: tiny\n" + Fixtures.base(data, 1) + "grid: " + grid + "\n";
    }

    static String run(Grid g, Path out) {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        new SweepRunner(g, out, new SweepRunner.Options(Shard.ALL, 1, Fixtures.FAST, Fixtures.sink(console), true)).run();
        return console.toString(StandardCharsets.UTF_8);
    }

    @Test
    void anotherSpecOnTheSameDirectoryIsRefusedAndTheProgressCountsEachRunOnce() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 128, 64);
        Grid g = Grid.expand(SweepSpec.parse(spec(data, "{seed: [1, 2], model: [dense, g2g]}"), "a.yaml"), Map.of());
        Path out = tmp.resolve("out");
        run(g, out);
        String results = Files.readString(out.resolve("results.csv"));

        String again = run(Grid.expand(SweepSpec.parse(spec(data, "{seed: [1, 2], model: [dense, g2g]}"), "a.yaml"), Map.of()), out);
        Matcher m = Pattern.compile("\\[sweep (\\d+)/(\\d+) done").matcher(again);
        int lines = 0;
        while (m.find()) {
            lines++;
            assertEquals("4", m.group(2), again);
            assertTrue(Integer.parseInt(m.group(1)) <= 4, again);
        }
        assertTrue(lines > 0 && again.contains("[sweep 4/4 done"), again);

        // a subset, a superset, another base option: each is another sweep, refused before anything runs
        for (String other : new String[]{"{seed: [1], model: [dense, g2g]}", "{seed: [1, 2, 3], model: [dense, g2g]}",
                "{seed: [1, 2], model: [dense, er]}"}) {
            Grid h = Grid.expand(SweepSpec.parse(spec(data, other), "b.yaml"), Map.of());
            UserError e = assertThrows(UserError.class, () -> run(h, out), other);
            assertTrue(e.getMessage().contains("holds sweep 'tiny' (4 runs) made from another spec"), e.getMessage());
        }
        Grid lr = Grid.expand(SweepSpec.parse(spec(data, "{seed: [1, 2], model: [dense, g2g]}"), "a.yaml"), Map.of("lr", "0.02"));
        UserError e = assertThrows(UserError.class, () -> run(lr, out));
        assertTrue(e.getMessage().contains("lr: 0.01 -> 0.02"), e.getMessage());
        // execution-only options may differ between workers
        run(Grid.expand(SweepSpec.parse(spec(data, "{seed: [1, 2], model: [dense, g2g]}"), "a.yaml"), Map.of("threads", "1")), out);
        assertEquals(results, Files.readString(out.resolve("results.csv")));
    }

    @Test
    void aDamagedSweepJsonIsOneLineWithAWayOut() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 128, 64);
        Path specFile = Fixtures.spec(tmp, spec(data, "{seed: [1]}"));
        Path out = tmp.resolve("out");
        Grid g = Grid.expand(SweepSpec.read(specFile), Map.of());
        run(g, out);
        for (String damage : new String[]{"{\"spec\": ", "[1, 2]", "{\"spec\": 42}", "{\"spec\": \"name: [\"}", ""}) {
            Files.writeString(out.resolve(SweepState.STATE), damage);
            StringWriter err = new StringWriter();
            int code = Main.run(new PrintWriter(err, true), "sweep", "--out", out.toString());
            assertEquals(2, code, err.toString());
            assertEquals(1, err.toString().strip().split("\n").length, err.toString());
            assertTrue(err.toString().contains("sweep.json: unreadable") && err.toString().contains("--spec FILE"), err.toString());
            // the way out: --spec rewrites it, and the finished run is not trained again
            String console = run(Grid.expand(SweepSpec.read(specFile), Map.of()), out);
            assertTrue(console.contains("rewriting it from the given spec"), console);
            assertTrue(console.contains("1 finished already"), console);
            assertEquals(g.spec.text(), SweepState.read(out).spec.text());
        }
    }
}
