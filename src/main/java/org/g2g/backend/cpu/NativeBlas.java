package org.g2g.backend.cpu;

import java.io.File;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;

/**
 * Row-major sgemm through OpenBLAS: the binary of JavaCPP's OpenBLAS presets, reached through
 * netlib's JNI shim ({@code dev.ludovic.netlib.blas.NativeBLAS}), which pins the Java arrays
 * for the call instead of copying them. OpenBLAS runs one thread per call: the CPU backend's
 * own workers each multiply their static share, so a run stays bit-identical for a given seed
 * and thread count (OpenBLAS's own threading would split differently with the machine's load).
 *
 * OpenBLAS picks its kernels for the CPU it finds, unless OPENBLAS_CORETYPE names one: an
 * older core type (e.g. Haswell on an AVX-512 machine) runs correct but slower kernels.
 */
final class NativeBlas {
    private NativeBlas() {}

    /**
     * JNIBLAS.sgemmK: the native entry behind netlib's public sgemm, whose bounds check asks for
     * lda x (columns) floats past the offset and so refuses a block that ends the array; we check
     * the exact extent of every operand ourselves ({@link #check}) before calling it.
     */
    private static final MethodHandle SGEMM;
    /** What was loaded, or why nothing was. */
    static final String STATUS;

    /** netlib logs a warning for each implementation it skips: not news here (held so the level sticks). */
    private static final java.util.logging.Logger NETLIB_LOG = java.util.logging.Logger.getLogger("dev.ludovic.netlib");

    static {
        NETLIB_LOG.setLevel(java.util.logging.Level.SEVERE);
        MethodHandle sgemm = null;
        String status;
        try {
            String jni = org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
            org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(1);
            File lib = new File(new File(jni).getParentFile(), "libopenblas_nolapack.so.0");
            if (!lib.isFile()) throw new IllegalStateException(lib + " missing");
            System.setProperty("dev.ludovic.netlib.blas.nativeLibPath", lib.getPath());
            Object blas = dev.ludovic.netlib.blas.NativeBLAS.getInstance();
            Method m = blas.getClass().getDeclaredMethod("sgemmK", String.class, String.class, int.class, int.class, int.class,
                    float.class, float[].class, int.class, int.class, float[].class, int.class, int.class,
                    float.class, float[].class, int.class, int.class);
            m.setAccessible(true);
            sgemm = MethodHandles.lookup().unreflect(m).bindTo(blas);
            String core = System.getenv("OPENBLAS_CORETYPE");
            status = "OpenBLAS 0.3.31 (1 thread per worker" + (core == null ? "" : ", OPENBLAS_CORETYPE=" + core) + ")";
        } catch (Throwable e) { // no binary for this platform, or it failed to load: the Vector API kernels serve
            status = "OpenBLAS unavailable (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
            sgemm = null;
        }
        SGEMM = sgemm;
        STATUS = status;
    }

    static boolean available() { return SGEMM != null; }

    /**
     * Row-major C (m x n) = op(A) op(B) + beta C, op(A) m x k, op(B) k x n; ta/tb transpose A/B
     * as stored (row-major, leading dimensions lda, ldb, ldc).
     */
    static void sgemm(boolean ta, boolean tb, int m, int n, int k, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (m <= 0 || n <= 0) return;
        check("A", a, aOff, ta ? k : m, ta ? m : k, lda);
        check("B", b, bOff, tb ? n : k, tb ? k : n, ldb);
        check("C", c, cOff, m, n, ldc);
        try {
            // a row-major matrix is its transpose column-major: C^T = op(B)^T op(A)^T
            String transB = tb ? "T" : "N", transA = ta ? "T" : "N"; // typed locals: invokeExact matches static types
            SGEMM.invokeExact(transB, transA, n, m, k, 1f, b, bOff, ldb, a, aOff, lda, beta, c, cOff, ldc);
        } catch (Throwable e) {
            throw new IllegalStateException("OpenBLAS sgemm failed", e);
        }
    }

    /** rows x cols row-major at off with leading dimension ld must lie inside x (native code does not check). */
    private static void check(String what, float[] x, int off, int rows, int cols, int ld) {
        if (rows <= 0 || cols <= 0) return;
        if (off < 0 || ld < cols || (long) off + (long) (rows - 1) * ld + cols > x.length) {
            throw new IndexOutOfBoundsException("sgemm " + what + ": " + rows + "x" + cols + " ld " + ld + " at " + off
                    + " outside " + x.length + " floats");
        }
    }
}
