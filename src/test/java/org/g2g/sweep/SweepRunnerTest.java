package org.g2g.sweep;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SweepRunnerTest {
    @TempDir Path tmp;

    @Test
    void runsEveryPointOnceAndWritesTablesAndPlots() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 256, 128);
        Path spec = Fixtures.spec(tmp, "name: tiny\n" + Fixtures.base(data, 2)
                + "grid: {seed: [1, 2]}\n"
                + "variants:\n"
                + "  - {label: dense, model: dense}\n"
                + "  - {label: g2g, model: g2g, p-inter: 0.25}\n");
        Grid g = Grid.expand(SweepSpec.read(spec), Map.of());
        Path out = tmp.resolve("out");
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        SweepRunner.Result r = new SweepRunner(g, out, new SweepRunner.Options(Shard.ALL, 1, Fixtures.FAST, Fixtures.sink(console))).run();
        System.out.println(console);
        System.out.printf("sweep of %d runs: %.2f s%n", g.points.size(), (System.nanoTime() - t0) / 1e9);
        assertEquals(4, r.finished());
        assertTrue(r.failed().isEmpty());
        List<String> rows = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(5, rows.size(), String.join("\n", rows));
        for (String f : List.of("accuracy_vs_density.png", "accuracy_vs_density.svg", "accuracy_vs_flops.png", "accuracy_vs_flops.svg")) {
            assertTrue(Files.size(out.resolve(f)) > 1000, f);
        }
        System.out.println(Files.readString(out.resolve("summary.md")));
        System.out.println(String.join("\n", rows));
    }
}
