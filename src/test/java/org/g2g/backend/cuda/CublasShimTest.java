package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import jcuda.CudaException;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import org.junit.jupiter.api.Test;

/**
 * The libcublas.so.12 shim against the real JCublas2 12.6.0 JNI library, without a GPU: with
 * the shim loaded first, libJCublas2 resolves its versioned cuBLAS symbols (a plain symlink
 * would fail with "version `libcublas.so.12' not found"), and with no libcublas.so.13 behind it
 * cublasCreate fails cleanly with CUBLAS_STATUS_NOT_INITIALIZED instead of crashing the JVM.
 */
class CublasShimTest {
    @Test
    void jcublas2LoadsThroughTheShimAndFailsCleanlyWithoutCublas13() throws Exception {
        assumeTrue(System.getProperty("os.name").startsWith("Linux") && "amd64".equals(System.getProperty("os.arch")), "linux-x86_64 only");
        assumeFalse(NativeLibs.loaderFinds("libcublas.so.12"), "a real libcublas.so.12 is installed");
        assumeFalse(NativeLibs.loaderFinds("libcublas.so.13"), "libcublas.so.13 is installed: this test wants it absent");
        assumeTrue(System.getenv("G2G_CUBLAS_LIB") == null, "G2G_CUBLAS_LIB is set");
        Path shim = NativeLibs.cublasShim();
        assumeTrue(shim != null, "shim not built (no gcc at build time)");
        System.load(shim.toString());
        JCublas2.setExceptionsEnabled(true); // loads libJCublas2, which needs libcublas.so.12
        CudaException e = assertThrows(CudaException.class, () -> JCublas2.cublasCreate(new cublasHandle()));
        assertNotNull(e.getMessage());
        assertTrue(e.getMessage().contains("NOT_INITIALIZED"), e.getMessage());
    }
}
