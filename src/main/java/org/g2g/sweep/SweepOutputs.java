package org.g2g.sweep;

import org.g2g.io.AtomicFiles;

import java.awt.AWTError;
import java.nio.file.Path;
import java.util.List;

/** The tables and plots of a sweep directory, rebuilt whole from its runs on disk. */
public final class SweepOutputs {
    private SweepOutputs() {}

    /**
     * Rebuilds results.csv, summary.csv, summary.md and the plots from the run directories.
     * Serialised within the process and (where the file system supports it) across processes,
     * so the last rebuild reflects every run finished before it started.
     */
    public static void refresh(Grid g, Path dir) {
        SweepState.underDirectoryLock(dir, () -> {
            List<ResultsTable.Row> rows = ResultsTable.collect(g, dir);
            AtomicFiles.writeString(dir.resolve("results.csv"), ResultsTable.csv(g, rows));
            List<Aggregate.Group> groups = Aggregate.groups(g, rows);
            int fin = 0;
            for (ResultsTable.Row r : rows) if (r.status().equals("finished")) fin++;
            AtomicFiles.writeString(dir.resolve("summary.csv"), Aggregate.csv(g, groups));
            AtomicFiles.writeString(dir.resolve("summary.md"), Aggregate.markdown(g, groups, fin, g.points.size()));
            try {
                Plots.write(dir, Plots.title(g), groups);
            } catch (RuntimeException | LinkageError | AWTError e) {
                // a machine without fonts or AWT libraries still gets its tables; the plots can be redrawn by a rerun
                System.err.println("warning: plots not written (" + e + ")");
            }
            return null;
        });
    }

    /**
     * Redraws the figures of dir from its results.csv alone (`g2g sweep plot`), for a sweep
     * whose run directories are not here; the tables are left as they are.
     */
    public static List<java.nio.file.Path> replot(Grid g, Path dir) {
        List<ResultsTable.Row> rows = ResultsTable.read(g, dir.resolve("results.csv"));
        return Plots.write(dir, Plots.title(g), Aggregate.groups(g, rows));
    }
}
