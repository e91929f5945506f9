package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
import org.g2g.backend.cuda.KernelSignatures.Type;
import org.junit.jupiter.api.Test;

/** The launch-argument check against the kernels' C signatures: needs no GPU. */
class KernelSignaturesTest {
    private static final KernelSignatures TABLE = KernelSignatures.load();

    /** A realistic argument list for adam(long long n, float* w, g, m, v, 8 floats). */
    private static Object[] adamArgs(Object n) {
        CUdeviceptr p = new CUdeviceptr();
        return new Object[] {n, p, p, p, p, 0.1f, 0.9f, 0.1f, 0.999f, 0.001f, 1e-8f, 0f, 1f};
    }

    @Test
    void theBuildGeneratedTableMatchesTheCurrentSources() throws Exception {
        assertNotNull(TABLE, "the build must put " + KernelSignatures.RESOURCE + " on the classpath");
        KernelSignatures parsed = KernelSignatures.parse(KernelSignatures.sources(Path.of("cuda-kernels")));
        assertEquals(parsed.table(), TABLE.table(), "stale signature table: rebuild");
        // spot checks against the .cu text, read by eye: gemm's 22 parameters come from a macro
        assertEquals(22, TABLE.of("gemm_nn").size());
        assertEquals(Type.LONG, TABLE.of("gemm_nn").get(5));
        assertEquals(List.of(Type.LONG, Type.POINTER), TABLE.of("abs_inplace"));
    }

    @Test
    void anIntWhereTheKernelTakesLongLongFails() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Kernels.check(TABLE, "adam", adamArgs(1000)));
        assertEquals("kernel adam: argument 0 is int but the kernel takes long long", e.getMessage());
        assertDoesNotThrow(() -> Kernels.check(TABLE, "adam", adamArgs(1000L)));
    }

    @Test
    void wrongKindArityAndUnknownKernelFail() {
        CUdeviceptr p = new CUdeviceptr();
        // row_sum(int rows, int batch, const float* a, int lda, float* out)
        assertDoesNotThrow(() -> Kernels.check(TABLE, "row_sum", 4, 8, p, 8, null));
        assertThrows(IllegalArgumentException.class, () -> Kernels.check(TABLE, "row_sum", 4, 8, p, 8));
        assertThrows(IllegalArgumentException.class, () -> Kernels.check(TABLE, "row_sum", 4, 8, p, 8, p, 1));
        assertThrows(IllegalArgumentException.class, () -> Kernels.check(TABLE, "row_sum", 4, 8, 7, 8, p), "int for a pointer");
        assertThrows(IllegalArgumentException.class, () -> Kernels.check(TABLE, "row_sum", 4, 8L, p, 8, p), "long for an int");
        assertThrows(IllegalArgumentException.class, () -> Kernels.check(TABLE, "row_sum", 4f, 8, p, 8, p), "float for an int");
        assertThrows(IllegalArgumentException.class, () -> Kernels.check(TABLE, "row_sum", 4.0, 8, p, 8, p), "double");
        assertThrows(IllegalArgumentException.class, () -> Kernels.check(TABLE, "no_such_kernel"));
        // Boolean is marshalled as a 4-byte int (C flags are int)
        assertDoesNotThrow(() -> Kernels.check(TABLE, "bias_act", 4, 8, p, 8, p, true));
    }

    @Test
    void parserExpandsMacrosSkipsCommentsAndRefusesUnknownTypes() {
        String src = """
                // extern "C" __global__ void commented(int a) {}
                #define PARAMS int m, \\
                    const float* __restrict__ a, long long s
                /* extern "C" __global__ void also_commented(double x) */
                extern "C" __global__ void __launch_bounds__(256) k1(PARAMS) {}
                extern "C" __global__ void k2(unsigned* state, const unsigned char* mask, float f, unsigned n) {}
                """;
        KernelSignatures s = KernelSignatures.parse(Map.of("a.cu", src));
        assertEquals(Map.of("k1", List.of(Type.INT, Type.POINTER, Type.LONG),
                "k2", List.of(Type.POINTER, Type.POINTER, Type.FLOAT, Type.INT)), s.table());
        assertEquals(s.table(), KernelSignatures.read(s.format()).table(), "the resource format round-trips");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelSignatures.parse(
                Map.of("b.cu", "extern \"C\" __global__ void k3(double x) {}")));
        assertTrue(e.getMessage().contains("k3"), e.getMessage());
    }
}
