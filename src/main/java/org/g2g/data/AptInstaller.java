package org.g2g.data;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Installs a Debian package with apt-get, only when that can work unattended: root, a
 * Debian-family system, apt-get on PATH, and not disabled with G2G_NO_INSTALL=1 (for CI and
 * for users who do not want a training command to change their system).
 */
final class AptInstaller implements Installer {
    /** apt may wait on a lock held by unattended-upgrades; do not hang a run forever. */
    private static final long TIMEOUT_MIN = 15;

    private final Function<String, String> env;

    AptInstaller(Function<String, String> env) { this.env = env; }

    @Override
    public String unavailableReason() {
        if ("1".equals(env.apply("G2G_NO_INSTALL"))) return "disabled by G2G_NO_INSTALL=1";
        if (!Files.exists(Path.of("/etc/debian_version"))) return "not a Debian-based system";
        if (aptGet() == null) return "apt-get not found on PATH";
        if (!isRoot()) return "not running as root";
        return null;
    }

    @Override
    public boolean install(String pkg, PrintStream log) {
        log.println("data: running apt-get install -y " + pkg);
        if (run(List.of("apt-get", "install", "-y", pkg), log) == 0) return true;
        // a fresh container often has empty package lists; update once and retry
        log.println("data: install failed; running apt-get update and retrying");
        run(List.of("apt-get", "update"), log);
        log.println("data: running apt-get install -y " + pkg);
        return run(List.of("apt-get", "install", "-y", pkg), log) == 0;
    }

    private static int run(List<String> cmd, PrintStream log) {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            // pump output on a daemon thread so the timeout below still applies while apt is silent
            Thread pump = new Thread(() -> copyLines(p, log), "apt-output");
            pump.setDaemon(true);
            pump.start();
            if (!p.waitFor(TIMEOUT_MIN, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                log.println("data: " + String.join(" ", cmd) + " timed out after " + TIMEOUT_MIN + " min");
                return -1;
            }
            pump.join(5000);
            return p.exitValue();
        } catch (IOException e) {
            log.println("data: could not run " + String.join(" ", cmd) + ": " + e.getMessage());
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static void copyLines(Process p, PrintStream log) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) log.println("  apt: " + line);
        } catch (IOException ignored) {
            // the process was killed or closed its output; its exit code tells the story
        }
    }

    private Path aptGet() {
        String path = env.apply("PATH");
        if (path == null) return null;
        for (String d : path.split(File.pathSeparator)) {
            if (d.isEmpty()) continue;
            Path p = Path.of(d, "apt-get");
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    private static boolean isRoot() {
        try {
            return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
        } catch (Throwable t) { // module absent or not Unix
            return "root".equals(System.getProperty("user.name"));
        }
    }
}
