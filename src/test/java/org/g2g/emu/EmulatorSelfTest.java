package org.g2g.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The emulated CUDA device's own checks fire: native/emu's emu-selftest runs one kernel or call
 * with a planted bug per case (src/test/native/emu) and says PASS only when the emulator caught
 * it with the expected error code and diagnostic, or (case "good") when a correct kernel gives
 * the right number; kernel-parity checks new kernels against references. Tagged "emulator": it runs
 * only in the gpu-emulated surefire execution, beside the GPU tests it guards (not on a real GPU).
 */
@Tag("emulator")
class EmulatorSelfTest {
    private static Path driver(String name) {
        String bin = System.getenv("G2G_EMU_BIN");
        Path p = Paths.get(bin != null ? bin : "target/emu/bin", name);
        assertTrue(Files.isExecutable(p), "emulator test driver not built: " + p);
        return p;
    }

    private static String run(String kase, Map<String, String> env) throws IOException, InterruptedException {
        return run("emu-selftest", kase, env);
    }

    private static String run(String driver, String kase, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(List.of(driver(driver).toString(), kase)).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), kase + " did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), kase + ":\n" + out);
        assertTrue(out.contains("PASS " + kase), out);
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"good", "divergent-barrier", "barrier-after-exit", "out-of-bounds", "exited-lane", "deadlock", "wrong-pointer",
            "misaligned-pointer", "freed-pointer", "missing-sync", "double-free", "graph", "capture-modes", "free-async", "mma-layout", "mma-exited-lane"})
    void checkFires(String kase) throws Exception {
        run(kase, Map.of());
    }

    /**
     * Issue 12's kernels against C++ references and the kernels they replace (kernel_parity.cc):
     * spmm_tiled bit-identical to spmm_rows; edge_grad_tiled and gemm_nt_splitk within fp32 tolerance;
     * the fused layer kernels (layer.cu) bit-identical to the launches they replace where the
     * summation order is the same, within fp32 tolerance of double sums everywhere.
     */
    @ParameterizedTest
    @ValueSource(strings = {"spmm-tiled", "edge-grad-tiled", "gemm-splitk", "gemm-tf32", "layer-forward", "head-loss", "layer-backward"})
    void kernelParity(String kase) throws Exception {
        System.out.print(run("kernel-parity", kase, Map.of()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"no-device", "out-of-memory"})
    void switchesWork(String kase) throws Exception {
        run(kase, kase.equals("no-device") ? Map.of("G2G_EMU_DEVICES", "0") : Map.of("G2G_EMU_MEMORY_MB", "1"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"divergent-barrier", "barrier-after-exit", "out-of-bounds", "exited-lane", "deadlock"})
    void diagnosticNamesKernelBlockAndLine(String kase) throws Exception {
        String out = run(kase, Map.of());
        assertTrue(out.contains("block (0,0,0)") || out.contains("block (1,0,0)"), out);
        assertTrue(out.contains("selftest_kernels.cu:"), out);
    }
}
