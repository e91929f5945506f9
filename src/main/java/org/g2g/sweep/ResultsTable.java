package org.g2g.sweep;

import org.g2g.train.TrainRun;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * DIR/results.csv: one row per run of the grid that has finished (or failed), in grid order,
 * rebuilt whole from the run directories' summary.json files, so it can never hold a row twice
 * nor a half-written one, whoever rebuilt it last.
 */
public final class ResultsTable {
    private ResultsTable() {}

    public static final String FAILED = "failed.json";

    /** A run's outcome: status "finished" with its summary, or "failed" with an empty one. */
    public record Row(Grid.Point point, String status, Map<String, Object> summary) {
        public double num(String key) {
            Object v = summary.get(key);
            return v instanceof Number n ? n.doubleValue() : Double.NaN;
        }

        public double flops(String key) {
            Object f = summary.get("flops_per_sample");
            if (f instanceof Map<?, ?> m && m.get(key) instanceof Number n) return n.doubleValue();
            return Double.NaN;
        }
    }

    public static boolean finished(Path runDir) {
        Path s = runDir.resolve("summary.json");
        if (!Files.isRegularFile(s)) return false;
        try {
            return "finished".equals(TrainRun.readSummary(s).get("status"));
        } catch (RuntimeException e) {
            return false;
        }
    }

    public static List<Row> collect(Grid g, Path dir) {
        List<Row> rows = new ArrayList<>();
        for (Grid.Point p : g.points) {
            Path run = dir.resolve(p.name());
            Path s = run.resolve("summary.json");
            Map<String, Object> sum = null;
            if (Files.isRegularFile(s)) {
                try { sum = TrainRun.readSummary(s); } catch (RuntimeException e) { sum = null; }
            }
            if (sum != null && "finished".equals(sum.get("status"))) rows.add(new Row(p, "finished", sum));
            else if (Files.isRegularFile(run.resolve(FAILED))) rows.add(new Row(p, "failed", Map.of()));
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
            sb.append(',').append(fin ? num(r.num("test_accuracy")) : "");
            sb.append(',').append(fin ? num(r.num("best_test_accuracy")) : "");
            sb.append(',').append(fin ? num(r.num("val_accuracy")) : "");
            sb.append(',').append(fin ? integer(r.num("active_params")) : "");
            sb.append(',').append(fin ? num(r.num("density")) : "");
            sb.append(',').append(fin ? integer(r.flops("forward")) : "");
            sb.append(',').append(fin ? integer(r.flops("train")) : "");
            sb.append(',').append(fin ? String.format(Locale.ROOT, "%.1f", r.num("train_samples_per_second")) : "");
            sb.append(',').append(fin ? String.format(Locale.ROOT, "%.3f", r.num("seconds")) : "");
            sb.append(',').append(fin ? integer(r.num("epochs")) : "");
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
