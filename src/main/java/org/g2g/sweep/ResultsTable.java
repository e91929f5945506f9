package org.g2g.sweep;

import org.g2g.train.RunSummary;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * DIR/results.csv: one row per run of the grid that has finished (or failed), in grid order,
 * rebuilt whole from the run directories' summary.json files, so it can never hold a row twice
 * nor a half-written one, whoever rebuilt it last.
 */
public final class ResultsTable {
    private ResultsTable() {}

    public static final String FAILED = "failed.json";

    /** A run's outcome: status "finished" with its summary, or "failed" with none (null). */
    public record Row(Grid.Point point, String status, RunSummary summary) {
        /** A number from the summary; NaN for a failed run or a missing value. */
        public double num(Function<RunSummary, Number> metric) {
            Number v = summary == null ? null : metric.apply(summary);
            return v == null ? Double.NaN : v.doubleValue();
        }

        public double flops(Function<RunSummary.FlopsPerSample, Number> metric) {
            return num(s -> s.flopsPerSample() == null ? null : metric.apply(s.flopsPerSample()));
        }
    }

    public static boolean finished(Path runDir) {
        Path s = runDir.resolve("summary.json");
        if (!Files.isRegularFile(s)) return false;
        try {
            return RunSummary.read(s).finished();
        } catch (RuntimeException e) {
            return false;
        }
    }

    public static List<Row> collect(Grid g, Path dir) {
        List<Row> rows = new ArrayList<>();
        for (Grid.Point p : g.points) {
            Path run = dir.resolve(p.name());
            Path s = run.resolve("summary.json");
            RunSummary sum = null;
            if (Files.isRegularFile(s)) {
                try { sum = RunSummary.read(s); } catch (RuntimeException e) { sum = null; }
            }
            if (sum != null && sum.finished()) rows.add(new Row(p, "finished", sum));
            else if (Files.isRegularFile(run.resolve(FAILED))) rows.add(new Row(p, "failed", null));
        }
        return rows;
    }

    static final String[] METRICS = {"status", "test_accuracy", "best_test_accuracy", "val_accuracy", "active_params",
            "density", "flops_forward", "flops_train", "train_samples_per_second", "seconds", "epochs"};

    public static String csv(Grid g, List<Row> rows) {
        StringBuilder sb = new StringBuilder("run,label,method");
        for (String c : g.columns) sb.append(',').append(c);
        for (String m : METRICS) sb.append(',').append(m);
        sb.append('\n');
        for (Row r : rows) {
            Grid.Point p = r.point();
            sb.append(field(p.name())).append(',').append(field(p.label() == null ? "" : p.label())).append(',')
                    .append(field(p.method()));
            for (String c : g.columns) sb.append(',').append(field(Grid.format(p.config().get(c))));
            sb.append(',').append(r.status());
            boolean fin = r.status().equals("finished");
            sb.append(',').append(fin ? num(r.num(RunSummary::testAccuracy)) : "");
            sb.append(',').append(fin ? num(r.num(RunSummary::bestTestAccuracy)) : "");
            sb.append(',').append(fin ? num(r.num(RunSummary::valAccuracy)) : "");
            sb.append(',').append(fin ? integer(r.num(RunSummary::activeParams)) : "");
            sb.append(',').append(fin ? num(r.num(RunSummary::density)) : "");
            sb.append(',').append(fin ? integer(r.flops(RunSummary.FlopsPerSample::forward)) : "");
            sb.append(',').append(fin ? integer(r.flops(RunSummary.FlopsPerSample::train)) : "");
            sb.append(',').append(fin ? String.format(Locale.ROOT, "%.1f", r.num(RunSummary::trainSamplesPerSecond)) : "");
            sb.append(',').append(fin ? String.format(Locale.ROOT, "%.3f", r.num(RunSummary::seconds)) : "");
            sb.append(',').append(fin ? integer(r.num(RunSummary::epochs)) : "");
            sb.append('\n');
        }
        return sb.toString();
    }

    static String num(double d) { return Double.isNaN(d) ? "" : String.format(Locale.ROOT, "%.6f", d); }

    static String integer(double d) { return Double.isNaN(d) ? "" : Long.toString(Math.round(d)); }

    /** RFC 4180 quoting where needed. */
    static String field(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
