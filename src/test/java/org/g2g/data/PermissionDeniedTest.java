package org.g2g.data;

import org.g2g.testutil.Synthetic;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An unreadable data directory or file is reported as "permission denied", not as missing
 * files. Root ignores mode bits, so as root the probe runs in a child JVM inside a new user
 * namespace (unshare -U), where it is an unprivileged user towards these files.
 */
class PermissionDeniedTest {
    @TempDir Path tmp;

    String probe(Path dir) throws Exception {
        Path locked = tmp.resolve("locked-probe");
        Files.createDirectories(locked);
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        boolean privileged = Files.isReadable(locked) && Files.isExecutable(locked);
        if (!privileged) {
            try {
                DataLocator.load("fashion-mnist", dir, "none", null);
                return "loaded";
            } catch (org.g2g.UserError e) {
                return "error: " + e.getMessage();
            }
        }
        List<String> cmd = new ArrayList<>(List.of("unshare", "-U", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), PermissionProbe.class.getName(), dir.toString()));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            Assumptions.abort("running as root without unshare: mode bits cannot be tested here (" + e.getMessage() + ")");
            return null;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        if (out.contains("unshare failed")) Assumptions.abort("running as root where user namespaces are not allowed: " + out);
        return out;
    }

    @Test
    void anUnreadableDirectoryOrFileIsPermissionDenied() throws Exception {
        Path d = Synthetic.fashionLike(tmp.resolve("data"), 20, 10, 4, 10, 1);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (Path f : Files.list(d).toList()) Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals("loaded", probe(d), "readable data loads, in the probe's conditions too");

        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("---------"));
        String dirErr = probe(d);
        assertTrue(dirErr.contains("permission denied on " + d) && !dirErr.contains("missing"), dirErr);

        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path f = d.resolve("train-labels-idx1-ubyte.gz");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("---------"));
        String fileErr = probe(d);
        assertTrue(fileErr.contains("permission denied") && fileErr.contains("train-labels-idx1-ubyte.gz"), fileErr);
    }
}
