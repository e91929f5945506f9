package org.g2g.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the dynamic loader would find a shared library, and the resources this backend ships:
 * the kernel fatbin and the optional libcublas.so.12 forwarding shim (native/).
 */
final class NativeLibs {
    static final String FATBIN = "/org/g2g/backend/cuda/g2g_kernels.fatbin";
    static final String CUBLAS_SHIM = "/org/g2g/backend/cuda/native/linux-x86_64/libcublas.so.12";

    private NativeLibs() {}

    /** The kernel fatbin from the classpath, or null when the build had no nvcc. */
    static byte[] fatbin() {
        try (InputStream in = NativeLibs.class.getResourceAsStream(FATBIN)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
    }

    static boolean fatbinPresent() { return NativeLibs.class.getResource(FATBIN) != null; }

    /**
     * Whether the dynamic loader can find {@code soname}: LD_LIBRARY_PATH, the ld.so cache and the
     * default directories, as ld.so searches for a DT_NEEDED entry (approximately: no RPATH).
     */
    static boolean loaderFinds(String soname) {
        for (Path dir : searchDirs()) if (Files.isRegularFile(dir.resolve(soname))) return true;
        try {
            Path cache = Paths.get("/etc/ld.so.cache");
            if (Files.isReadable(cache)) {
                byte[] b = Files.readAllBytes(cache);
                byte[] needle = (soname + "\0").getBytes(StandardCharsets.US_ASCII);
                outer:
                for (int i = 0; i + needle.length <= b.length; i++) {
                    for (int j = 0; j < needle.length; j++) if (b[i + j] != needle[j]) continue outer;
                    if (i == 0 || b[i - 1] == 0) return true;
                }
            }
        } catch (IOException | SecurityException ignored) {
            // no cache: fall back to the directories only
        }
        return false;
    }

    private static List<Path> searchDirs() {
        List<Path> dirs = new ArrayList<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) for (String d : ld.split(":")) if (!d.isEmpty()) dirs.add(Paths.get(d));
        for (String d : new String[] {"/lib", "/usr/lib", "/lib64", "/usr/lib64", "/lib/x86_64-linux-gnu",
                "/usr/lib/x86_64-linux-gnu"}) dirs.add(Paths.get(d));
        return dirs;
    }

    /**
     * The libcublas.so.12 shim as a file: from -Dg2g.native.dir (the bundle's native folder) or
     * extracted from the jar into a fresh temp directory; null when it was not built.
     */
    static Path cublasShim() throws IOException {
        String dir = System.getProperty("g2g.native.dir");
        if (dir != null) {
            Path p = Paths.get(dir, "libcublas.so.12");
            if (Files.isRegularFile(p)) return p;
        }
        try (InputStream in = NativeLibs.class.getResourceAsStream(CUBLAS_SHIM)) {
            if (in == null) return null;
            Path tmp = Files.createTempDirectory("g2g-native");
            Path p = tmp.resolve("libcublas.so.12");
            Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
            p.toFile().deleteOnExit();
            tmp.toFile().deleteOnExit();
            return p;
        }
    }

    /** First line of a throwable's message, for one-line reasons. */
    static String oneLine(Throwable t) {
        String m = t.getMessage();
        if (m == null) m = t.getClass().getSimpleName();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
