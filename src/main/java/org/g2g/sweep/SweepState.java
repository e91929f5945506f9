package org.g2g.sweep;

import org.g2g.UserError;
import org.g2g.train.RunRecorder;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sweep directory's own state: sweep.json (the spec text and the command-line base options,
 * so `merge` and reruns expand the same grid), the check that a directory is not reused for
 * another sweep, and the directory lock that serialises state checks and table rebuilds.
 */
public final class SweepState {
    private SweepState() {}

    public static final String STATE = "sweep.json";

    /** Saves the spec and the command-line base options, so `merge` and reruns see the same grid. */
    public static void write(Grid g, Path dir) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", g.spec.name());
        m.put("origin", g.spec.origin());
        m.put("cli", g.cli);
        m.put("spec", g.spec.text());
        RunRecorder.writeJson(dir.resolve(STATE), m);
    }

    static final String REWRITE_HINT = "; give --spec FILE to rewrite it from the spec, or delete it";

    @SuppressWarnings("unchecked")
    public static Grid read(Path dir) {
        Path f = dir.resolve(STATE);
        if (!Files.isRegularFile(f)) throw new UserError(dir + ": not a sweep directory (" + STATE + " missing)");
        try {
            Map<String, Object> m = RunRecorder.JSON.readValue(f.toFile(), Map.class);
            if (!(m.get("spec") instanceof String text)) throw new IOException("no 'spec' text");
            Object cli = m.getOrDefault("cli", Map.of());
            if (!(cli instanceof Map)) throw new IOException("'cli' is not a mapping");
            return Grid.expand(SweepSpec.parse(text, String.valueOf(m.get("origin"))), (Map<String, Object>) cli);
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage().split("\n")[0];
            throw new UserError(f + ": unreadable (" + why + ")" + REWRITE_HINT);
        }
    }

    /**
     * Refuses a grid that differs from the one the directory was made for (another spec, or other
     * base options), so two sweeps never mix their runs in one table. Execution-only options
     * (device, threads) may differ between workers. Called under the directory lock.
     */
    static void checkSameSweep(Grid saved, Grid g, Path dir) {
        Map<String, Grid.Point> theirs = new LinkedHashMap<>();
        for (Grid.Point p : saved.points) theirs.put(p.name(), p);
        String why = null;
        for (Grid.Point p : g.points) {
            Grid.Point q = theirs.remove(p.name());
            if (q == null) { why = "run " + p.name() + " is not in it"; break; }
            List<String> diff = q.config().differences(p.config());
            if (!diff.isEmpty()) { why = "run " + p.name() + ": " + String.join(", ", diff); break; }
        }
        if (why == null && !theirs.isEmpty()) why = "its run " + theirs.keySet().iterator().next() + " is not in this grid";
        if (why != null) {
            throw new UserError("sweep directory " + dir + " holds sweep '" + saved.spec.name() + "' (" + saved.points.size()
                    + " runs) made from another spec or other options (" + why + "); choose another --out, or continue that "
                    + "sweep with: g2g sweep --out " + dir);
        }
    }

    private static final Object OUTPUTS = new Object();

    /**
     * Runs body holding the sweep directory's lock: serialised within the process and (where the
     * file system supports it) across processes. Short work only (state checks, table rebuilds).
     */
    static <T> T underDirectoryLock(Path dir, java.util.function.Supplier<T> body) {
        synchronized (OUTPUTS) {
            FileLock lock = null;
            FileChannel ch = null;
            try {
                try {
                    ch = FileChannel.open(dir.resolve(".outputs.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    lock = ch.lock();
                } catch (IOException | UnsupportedOperationException e) {
                    // no locking here (some network file systems): rebuilds may interleave, each file stays whole
                }
                return body.get();
            } finally {
                try {
                    if (lock != null) lock.release();
                    if (ch != null) ch.close();
                } catch (IOException ignored) { /* closing a lock file */ }
            }
        }
    }
}
