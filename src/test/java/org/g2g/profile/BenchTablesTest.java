package org.g2g.profile;

import org.g2g.backend.cpu.BlasReference;
import org.g2g.backend.cpu.CpuBackend;
import org.g2g.backend.cpu.DenseEngine;
import org.g2g.config.RunConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** g2g bench's density table (step against the active-edge limit) and GEMM table (ours against OpenBLAS), on a small model. */
class BenchTablesTest {
    static RunConfig small() {
        return RunConfig.defaults().with(Map.of("hidden", 64, "layers", 2, "batch", 32, "groups", 4, "threads", 2));
    }

    @Test void densityTableFollowsTheLimitFormulaAndPlots(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        DensityTable.Result r;
        try (CpuBackend be = new CpuBackend(2, DenseEngine.VECTOR)) {
            r = DensityTable.run(be, small(), List.of(0.5, 0.1), DensityTable.options(1, 4, 1), new PrintStream(log, true));
        }
        assertEquals(2, r.rows().size());
        assertEquals("64-64x2-10", r.widths().replaceFirst("^\\d+", "64")); // encoder features first, then hidden x layers
        assertTrue(r.denseStepMs() > 0 && r.fixedMs() > 0, r.toString());
        for (DensityTable.Row w : r.rows()) {
            assertEquals(DensityTable.SLACK * (w.density() * r.denseStepMs() + r.fixedMs()), w.limitMs(), 1e-9);
            assertEquals(w.density(), w.actualDensity(), 0.1, "ER mask at its density");
            assertTrue(w.stepMs() > 0 && w.dstMs() >= 0 && w.dstMs() < w.stepMs(), w.toString());
            assertEquals(w.stepMs() <= w.limitMs(), w.within());
        }
        // every round printed, and the table's dense step is the rounds' median
        List<String> rounds = log.toString().lines().filter(x -> x.startsWith("round ")).toList();
        assertEquals(DensityTable.ROUNDS, rounds.size(), log.toString());
        for (int k = 0; k < DensityTable.ROUNDS; k++) assertTrue(rounds.get(k).startsWith("round " + (k + 1) + ": dense step "), rounds.get(k));
        double[] dense = rounds.stream().mapToDouble(x -> Double.parseDouble(x.replaceFirst("^round \\d+: dense step ([0-9.]+) ms.*", "$1"))).sorted().toArray();
        assertEquals(dense[dense.length / 2], r.denseStepMs(), 0.006, "dense step = the rounds' median");
        // the fixed part is measured, each round, as the step of the model at the floor density
        double[] fixed = rounds.stream().mapToDouble(x -> Double.parseDouble(x.replaceFirst(
                "^round \\d+: dense step [0-9.]+ ms, fixed \\(ER " + DensityTable.FLOOR_DENSITY + "\\) ([0-9.]+) ms; er .*", "$1"))).sorted().toArray();
        assertEquals(fixed[fixed.length / 2], r.fixedMs(), 0.006, "fixed = the rounds' median floor step");
        String text = DensityTable.text(r);
        assertTrue(text.contains("limit = 1.5 x (density x dense step"), text);
        assertEquals(3, DensityTable.csv(r).lines().count());
        List<Path> files = DensityPlot.write(r, dir.resolve("density"));
        byte[] png = Files.readAllBytes(files.get(0));
        assertEquals("PNG", new String(png, 1, 3));
        assertTrue(Files.readString(files.get(1)).contains("<svg"));
    }

    @Test void gemmTableCoversEveryDenseShapeOfTheStep() {
        if (!BlasReference.available()) return; // OpenBLAS ships for linux-x86_64, which CI is; elsewhere nothing to compare
        List<GemmTable.Row> rows;
        try (CpuBackend be = new CpuBackend(2, DenseEngine.VECTOR); CpuBackend one = new CpuBackend(1, DenseEngine.VECTOR)) {
            rows = GemmTable.run(be, 2, one, small(), 0.005);
        }
        // encoder, first layer, hidden layer, output layer; diagonal block of a hidden layer and of the first layer: 3 ops each
        assertEquals(6 * 3, rows.size(), GemmTable.text(rows));
        assertEquals(List.of("encoder", "layer", "layer", "layer", "block", "block"),
                rows.stream().filter(x -> x.op().equals("forward")).map(GemmTable.Row::kind).toList());
        for (GemmTable.Row x : rows) {
            assertTrue(x.ms() > 0 && x.blasMs() > 0, x.toString());
            assertEquals(x.kind().equals("block") ? 1 : 2, x.threads());
            assertEquals(x.blasMs() / x.ms(), x.share(), 1e-12);
        }
        GemmTable.Row block = rows.get(12);
        assertEquals(16, block.out()); // 64 hidden / 4 groups
        assertTrue(GemmTable.text(rows).contains("target 85%"));
    }
}
