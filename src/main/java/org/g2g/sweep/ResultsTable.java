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

    /**
     * The finished rows of a results.csv this table wrote, for the points of g (by run name):
     * enough of each summary (accuracies, density, sizes, FLOPs, throughput, seconds) to redraw
     * the figures of a sweep whose run directories are gone (a copy of its results only).
     */
    public static List<Row> read(Grid g, Path csv) {
        List<String> lines;
        try {
            lines = Files.readAllLines(csv);
        } catch (java.io.IOException e) {
            throw new org.g2g.UserError(csv + ": cannot read (" + org.g2g.io.AtomicFiles.reason(e) + ")");
        }
        if (lines.isEmpty()) throw new org.g2g.UserError(csv + ": empty, not a results table");
        List<String> head = fields(lines.get(0));
        for (String need : List.of("run", "status", "test_accuracy", "density", "flops_forward")) {
            if (!head.contains(need)) throw new org.g2g.UserError(csv + ": no column '" + need + "'; not a g2g results.csv");
        }
        java.util.Map<String, Grid.Point> byName = new java.util.HashMap<>();
        for (Grid.Point p : g.points) byName.put(p.name(), p);
        List<Row> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            List<String> f = fields(lines.get(i));
            java.util.Map<String, String> v = new java.util.HashMap<>();
            for (int k = 0; k < Math.min(f.size(), head.size()); k++) v.put(head.get(k), f.get(k));
            Grid.Point p = byName.get(v.get("run"));
            if (p == null || !"finished".equals(v.get("status"))) continue;
            java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("status", RunSummary.FINISHED);
            for (String k : List.of("test_accuracy", "best_test_accuracy", "val_accuracy", "active_params", "density",
                    "train_samples_per_second", "seconds", "epochs")) {
                String x = v.get(k);
                if (x != null && !x.isEmpty()) m.put(k, x);
            }
            java.util.Map<String, Object> fl = new java.util.LinkedHashMap<>();
            fl.put("forward", v.getOrDefault("flops_forward", "0").isEmpty() ? "0" : v.get("flops_forward"));
            fl.put("train", v.getOrDefault("flops_train", "0").isEmpty() ? "0" : v.getOrDefault("flops_train", "0"));
            m.put("flops_per_sample", fl);
            try {
                rows.add(new Row(p, "finished", org.g2g.train.RunRecorder.JSON.convertValue(m, RunSummary.class)));
            } catch (IllegalArgumentException e) {
                throw new org.g2g.UserError(csv + ": line " + (i + 1) + " is not a results row (" + e.getMessage().split("\n")[0] + ")");
            }
        }
        return rows;
    }

    /** One CSV line's fields, RFC 4180 quotes undone (as {@link #field} writes them). */
    static List<String> fields(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean q = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (q) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') { cur.append('"'); i++; }
                else if (c == '"') q = false;
                else cur.append(c);
            } else if (c == '"') {
                q = true;
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
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
