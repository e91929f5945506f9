package org.g2g;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** The program version and, when run from a git checkout, its commit. */
public final class Version {
    private Version() {}

    public static String version() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-dev" : v;
    }

    /** The checked-out commit of G2G_HOME (set by the launcher), or null when unknown. */
    public static String gitCommit() {
        String home = System.getenv("G2G_HOME");
        if (home == null) return null;
        try {
            Path git = Path.of(home, ".git");
            Path head = git.resolve("HEAD");
            if (!Files.isRegularFile(head)) return null;
            String ref = Files.readString(head).trim();
            if (!ref.startsWith("ref: ")) return ref;
            Path refFile = git.resolve(ref.substring(5));
            if (Files.isRegularFile(refFile)) return Files.readString(refFile).trim();
            Path packed = git.resolve("packed-refs");
            if (Files.isRegularFile(packed)) {
                for (String line : Files.readAllLines(packed)) {
                    if (line.endsWith(" " + ref.substring(5))) return line.substring(0, line.indexOf(' '));
                }
            }
        } catch (Exception e) {
            return null;
        }
        return null;
    }

    /**
     * Whether the git checkout at G2G_HOME (set by the launcher, which rebuilds the jar from that
     * tree when its sources are newer) has uncommitted changes; null when unknown.
     */
    public static Boolean gitDirty() {
        String home = System.getenv("G2G_HOME");
        return home == null ? null : gitDirty(Path.of(home));
    }

    /**
     * True when `git status --porcelain` in dir lists anything (changed, staged or untracked
     * files that .gitignore does not hide), false when it lists nothing; null when dir is no git
     * checkout or git is missing or does not answer within 10 s.
     */
    public static Boolean gitDirty(Path dir) {
        if (!Files.exists(dir.resolve(".git"))) return null; // a directory (checkout) or a file (worktree)
        Process p = null;
        try {
            p = new ProcessBuilder("git", "-C", dir.toString(), "status", "--porcelain")
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            // the first byte is all we need; reading on keeps a long listing from filling the pipe
            java.io.InputStream in = p.getInputStream();
            java.util.concurrent.CompletableFuture<Boolean> any = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    boolean seen = in.read() >= 0;
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                    return seen;
                } catch (java.io.IOException e) {
                    return null;
                }
            });
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) return null;
            return any.get(10, TimeUnit.SECONDS);
        } catch (java.io.IOException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            if (p != null) p.destroy();
        }
    }
}
