package org.g2g.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.g2g.backend.cuda.Cuda;
import org.g2g.backend.cuda.CudaStatus;
import org.g2g.backend.cuda.GpuTests;
import org.g2g.testutil.CliRun;
import org.g2g.profile.ProfileReport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `g2g profile --device cuda --concurrent 2` through the CLI: two runs at once, each on its own
 * backend (stream, CUDA graphs, memory) of one device, replaying their recorded steps side by
 * side; the report has both levels, and on the emulated device it says the figures are the
 * emulator's.
 */
@Tag("gpu")
class GpuProfileConcurrentTest {
    @TempDir Path tmp;

    @Test
    void concurrentRunsOnOneDevice() throws Exception {
        GpuTests.requireGpu();
        CudaStatus s = Cuda.probe();
        Path json = tmp.resolve("p.json");
        String[] args = {"profile", "--device", "cuda", "--encoder", "none", "--hidden", "32", "--batch", "32", "--compare", "g2g",
            "--warmup", "3", "--steps", "4", "--repeats", "1", "--dst-updates", "0", "--calibration-size", "32", "--concurrent", "2",
            "--json", json.toString()};
        CliRun run = CliRun.of(args);
        int code = run.code();
        String out = run.out(), err = run.err();
        assertEquals(0, code, err + out);
        JsonNode c = ProfileReport.JSON.readTree(json.toFile()).get("concurrency");
        assertEquals("cuda:0", c.get("device").asText());
        assertEquals(2, c.get("levels").size());
        for (JsonNode l : c.get("levels")) assertTrue(l.get("samples_per_second").asDouble() > 0, l.toString());
        boolean emulated = s.gpus().get(0).name().startsWith("CPU emulation");
        assertEquals(emulated, c.get("emulated").asBoolean());
        if (emulated) assertTrue(out.contains("figures are the CPU emulation's, not a GPU's"), out);
    }
}
