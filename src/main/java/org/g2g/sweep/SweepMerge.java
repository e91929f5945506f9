package org.g2g.sweep;

import org.g2g.UserError;
import org.g2g.config.RunConfig;
import org.g2g.io.AtomicFiles;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * `g2g sweep merge`: combines the directories of shards of one sweep (run on machines without a
 * shared file system) into one, then rebuilds its tables and plots. A run finished anywhere is
 * taken from there; an unfinished one is copied only when the target has none, so it can resume.
 */
public final class SweepMerge {
    private SweepMerge() {}

    public static Grid merge(List<Path> dirs, Path out, PrintStream log) {
        if (dirs.isEmpty()) throw new UserError("sweep merge: name the shard directories to merge");
        Grid g = SweepState.read(dirs.get(0));
        for (Path d : dirs.subList(1, dirs.size())) {
            Grid h = SweepState.read(d);
            if (!h.spec.text().equals(g.spec.text()) || !comparable(h.cli).equals(comparable(g.cli))) {
                throw new UserError("sweep merge: " + d + " holds another sweep than " + dirs.get(0)
                        + " (spec or command-line options differ)");
            }
        }
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UserError("sweep merge: cannot create " + out + ": " + AtomicFiles.reason(e));
        }
        if (!Files.isRegularFile(out.resolve(SweepState.STATE))) SweepState.write(g, out);
        int copied = 0, finished = 0;
        for (Grid.Point p : g.points) {
            Path target = out.resolve(p.name());
            boolean targetDone = ResultsTable.finished(target);
            Path best = null;
            for (Path d : dirs) {
                Path src = d.resolve(p.name());
                if (src.toAbsolutePath().normalize().equals(target.toAbsolutePath().normalize())) continue;
                if (ResultsTable.finished(src)) { best = src; break; }
                if (best == null && Files.isRegularFile(src.resolve("config.json")) && !Files.exists(target)) best = src;
            }
            if (!targetDone && best != null) {
                replaceWith(best, target);
                copied++;
            }
            if (ResultsTable.finished(target)) finished++;
        }
        SweepOutputs.refresh(g, out);
        log.printf("merged %d director%s into %s: %d run%s copied, %d of %d runs finished%n", dirs.size(),
                dirs.size() == 1 ? "y" : "ies", out, copied, copied == 1 ? "" : "s", finished, g.points.size());
        return g;
    }

    private static Map<String, Object> comparable(Map<String, Object> cli) {
        Map<String, Object> m = new LinkedHashMap<>(cli);
        m.keySet().removeIf(RunConfig::isExecutionOnly);
        return m;
    }

    /** Copies run directory src to target (claims left out), swapping it in with renames. */
    private static void replaceWith(Path src, Path target) {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".merge-" + UUID.randomUUID());
        Path old = target.resolveSibling("." + target.getFileName() + ".old-" + UUID.randomUUID());
        try {
            Files.createDirectories(tmp);
            try (Stream<Path> files = Files.list(src)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    String n = f.getFileName().toString();
                    if (n.equals(ClaimLock.FILE) || n.startsWith(".") || !Files.isRegularFile(f)) continue;
                    Files.copy(f, tmp.resolve(n), StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
            if (Files.exists(target)) Files.move(target, old);
            Files.move(tmp, target);
            if (Files.exists(old)) deleteTree(old);
        } catch (IOException e) {
            throw new UserError("sweep merge: cannot copy " + src + " to " + target + ": " + AtomicFiles.reason(e));
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) Files.deleteIfExists(f);
        }
    }
}
