package org.g2g.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.g2g.backend.cuda.Cuda;
import org.g2g.backend.cuda.CudaStatus;
import org.g2g.backend.cuda.GpuTests;
import org.g2g.testutil.CliRun;
import org.g2g.testutil.Synthetic;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end through the CLI: `g2g train --device cuda` (both sparse engines) prints the same
 * metrics as `--device cpu` on the same small run (two epochs with DST updates, generated
 * 12 x 12 images). Printed metrics are rounded (loss 4 decimals, accuracy 0.01%), so kernel
 * summation order may differ below that; a wrong kernel, argument or synchronisation does not.
 * Runs in the gpu-emulated execution (the emulated device) and on a real GPU with -Pgpu.
 */
@Tag("gpu")
class CudaTrainSmokeTest {
    @TempDir Path tmp;

    private static List<String> metrics(String out) {
        List<String> lines = new ArrayList<>();
        for (String l : out.split("\n")) {
            // epoch lines and the result line, without throughput and wall time
            if (l.startsWith("epoch ") && l.contains("test loss")) lines.add(l.replaceAll("\\s+[\\d,]+ samples/s.*$", ""));
            if (l.startsWith("result:")) lines.add(l.replaceAll(", [\\d,]+ samples/s.*$", ""));
        }
        return lines;
    }

    private String train(Path data, String device, String engine) {
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--hidden", "64", "--layers", "2",
                "--groups", "4", "--epochs", "2", "--lr", "0.01", "--batch", "64", "--update-every", "5", "--device", device,
                "--out", tmp.resolve(device.replace(':', '-') + "-" + engine).toString()));
        if (engine != null) args.addAll(List.of("--sparse-engine", engine));
        CliRun run = CliRun.of(args.toArray(new String[0]));
        int code = run.code();
        String out = run.out(), err = run.err();
        System.out.print(out);
        assertEquals(0, code, device + ": " + err + out);
        return out;
    }

    @Test
    void cudaTrainingPrintsTheCpuMetrics() throws Exception {
        GpuTests.requireGpu();
        CudaStatus s = Cuda.probe();
        Path data = Synthetic.fashionLike(tmp.resolve("data"), 1200, 400, 12, 10, 7);
        List<String> cpu = metrics(train(data, "cpu", null));
        assertFalse(cpu.isEmpty(), "no metrics printed");
        for (String engine : List.of("custom", "cusparse")) {
            String out = train(data, "cuda", engine);
            if (s.gpus().get(0).name().startsWith("CPU emulation")) {
                assertTrue(out.contains("CPU emulation"), "the run must say it ran on the emulated device:\n" + out);
            }
            assertEquals(cpu, metrics(out), "cuda (" + engine + ") vs cpu");
        }
    }
}
