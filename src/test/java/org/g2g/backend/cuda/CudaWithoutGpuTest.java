package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.g2g.UserError;
import org.junit.jupiter.api.Test;

/** What can be checked without a GPU: the probe, the error path of open, the built artefacts. */
class CudaWithoutGpuTest {
    private static boolean onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String d : path.split(File.pathSeparator)) if (new File(d, exe).canExecute()) return true;
        return false;
    }

    private static boolean driverPresent() {
        return NativeLibs.loaderFinds("libcuda.so.1");
    }

    @Test
    void probeGivesOneVerdictAndCachesIt() {
        CudaStatus s = Cuda.probe();
        assertNotNull(s);
        assertSame(s, Cuda.probe(), "the verdict is cached");
        assertEquals(s.usable(), s.reason() == null, "a reason exactly when unusable");
        if (!s.usable()) {
            assertFalse(s.reason().isBlank() || s.reason().contains("\n"), "one-line reason: '" + s.reason() + "'");
        } else {
            assertFalse(s.gpus().isEmpty(), "a usable CUDA lists its devices");
        }
        assertNotNull(s.describe());
    }

    @Test
    void withoutDriverProbeSaysSoInOneLine() {
        assumeFalse(driverPresent(), "libcuda.so.1 is present on this machine");
        CudaStatus s = Cuda.probe();
        assertFalse(s.usable());
        assertEquals("no NVIDIA driver (libcuda.so.1 not found)", s.reason());
        assertTrue(s.gpus().isEmpty());
    }

    @Test
    void openWhenUnusableIsAOneLineUserError() {
        assumeFalse(Cuda.probe().usable(), "CUDA is usable here");
        UserError e = assertThrows(UserError.class, () -> Cuda.open(0, "custom"));
        assertTrue(e.getMessage().contains(Cuda.probe().reason()), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void unknownSparseEngineIsAUserError() {
        UserError e = assertThrows(UserError.class, () -> Cuda.open(0, "magic"));
        assertTrue(e.getMessage().contains("magic"), e.getMessage());
    }

    @Test
    void fatbinHoldsEveryKernelWhenNvccExists() throws Exception {
        assumeTrue(onPath("nvcc") || NativeLibs.fatbinPresent(), "nvcc not on PATH: the CUDA backend is not built");
        byte[] fatbin = NativeLibs.fatbin();
        assertNotNull(fatbin, "fatbin resource " + NativeLibs.FATBIN + " missing although nvcc exists");
        String text = new String(fatbin, StandardCharsets.ISO_8859_1);
        for (String k : KernelSignatures.load().table().keySet()) {
            assertTrue(text.contains(k + "\0"), "kernel " + k + " not in the fatbin");
        }
        // a build without nvcc puts the emulated device's image (names only) on the test classpath
        if (text.startsWith("G2GEMU1\n")) return;
        // SASS for every target architecture, and PTX for forward compatibility
        for (String arch : new String[] {"sm_80", "sm_86", "sm_89", "sm_90"}) {
            assertTrue(text.contains(arch), arch + " missing");
        }
    }

    @Test
    void everyLaunchedKernelNameIsInTheSignatureTable() throws Exception {
        // the Java side names kernels as string literals in launch(...) / gemm(...) calls
        java.util.Set<String> kernels = KernelSignatures.load().table().keySet();
        int n = 0;
        for (File f : new File("src/main/java/org/g2g/backend/cuda").listFiles((d, name) -> name.endsWith(".java"))) {
            Matcher m = Pattern.compile("(?:launch|gemm)\\(\"([a-z_]+)\"").matcher(Files.readString(f.toPath()));
            while (m.find()) {
                assertTrue(kernels.contains(m.group(1)), f + ": " + m.group(1));
                n++;
            }
        }
        assertTrue(n > 15);
    }

    @Test
    void driverVersionVerdictNamesTheFailureNotANullVersion() {
        String failed = Cuda.driverVersionProblem(jcuda.driver.CUresult.CUDA_ERROR_NOT_INITIALIZED, 0);
        assertEquals("the CUDA driver did not report its version (cuDriverGetVersion: CUDA_ERROR_NOT_INITIALIZED)", failed);
        assertEquals("driver 12.4 too old: kernels need >= 13.0", Cuda.driverVersionProblem(0, 12040));
        assertTrue(Cuda.driverVersionProblem(0, 0).contains("no version"));
        assertEquals(null, Cuda.driverVersionProblem(0, 13000));
        assertEquals(null, Cuda.driverVersionProblem(0, 13020));
    }
}
