package org.g2g.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.g2g.backend.cuda.GpuTests;
import org.g2g.testutil.CliRun;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `g2g bench --device cuda --precision tf32 --tables layer` (what the first-contact script runs to
 * time the tensor-core path): the backend it measures on is the TF32 one (its description says
 * so) and the layer table is written.
 */
@Tag("gpu")
class GpuBenchPrecisionTest {
    @TempDir Path tmp;

    @Test
    void layerTableUnderTf32() throws Exception {
        GpuTests.requireGpu();
        String[] args = {"bench", "--device", "cuda", "--precision", "tf32", "--tables", "layer", "--layer-width", "64",
            "--layer-batches", "16", "--min-time", "0.001", "--out", tmp.toString()};
        CliRun run = CliRun.of(args);
        int code = run.code();
        String out = run.out(), err = run.err();
        assertEquals(0, code, err + out);
        assertTrue(out.contains("precision tf32"), "the device line names the precision measured: " + out);
        List<String> rows = Files.readAllLines(tmp.resolve("bench-layer.csv"));
        assertEquals(2, rows.size(), rows.toString());
        assertTrue(rows.get(1).startsWith("64,16,"), rows.toString());
    }
}
