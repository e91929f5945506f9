package org.g2g.sweep;

import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;
import org.g2g.config.ModelKind;
import org.g2g.train.RunSummary;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Runs grouped over seeds: mean, sample standard deviation and the 95% confidence interval of
 * the mean (Student t, n-1 degrees of freedom), and each configuration's difference to the
 * dense baseline(s) with a Welch interval (unequal variances, Welch-Satterthwaite df).
 */
public final class Aggregate {
    private Aggregate() {}

    /** Options that make up a method; a baseline is matched on the other (data, training) options. */
    static final Set<String> STRUCTURE_KEYS = Set.of("model", "match-params", "groups", "p-intra", "p-inter", "grouping",
            "density", "prune", "regrow", "update-every", "prune-fraction", "prune-schedule", "hebbian", "hebbian-ema");

    /** ci95: half-width of the 95% interval of the mean; NaN when n &lt; 2. */
    public record Stat(int n, double mean, double sd, double ci95) {
        public static Stat of(double[] xs) {
            DescriptiveStatistics d = new DescriptiveStatistics();
            for (double x : xs) if (!Double.isNaN(x)) d.addValue(x);
            int n = (int) d.getN();
            if (n == 0) return new Stat(0, Double.NaN, Double.NaN, Double.NaN);
            if (n == 1) return new Stat(1, d.getMean(), Double.NaN, Double.NaN);
            double sd = d.getStandardDeviation();
            double t = new TDistribution(n - 1).inverseCumulativeProbability(0.975);
            return new Stat(n, d.getMean(), sd, t * sd / Math.sqrt(n));
        }
    }

    /** mean(a) - mean(b) with its 95% Welch interval [lo, hi] (NaN when either side has fewer than 2 runs). */
    public record Diff(String baseline, double diff, double lo, double hi) {
        public static Diff welch(String baseline, double[] a, double[] b) {
            Stat sa = Stat.of(a), sb = Stat.of(b);
            double diff = sa.mean - sb.mean;
            if (sa.n < 2 || sb.n < 2) return new Diff(baseline, diff, Double.NaN, Double.NaN);
            double va = sa.sd * sa.sd / sa.n, vb = sb.sd * sb.sd / sb.n;
            if (va + vb == 0) return new Diff(baseline, diff, diff, diff);
            double df = (va + vb) * (va + vb) / (va * va / (sa.n - 1) + vb * vb / (sb.n - 1));
            double half = new TDistribution(df).inverseCumulativeProbability(0.975) * Math.sqrt(va + vb);
            return new Diff(baseline, diff, diff - half, diff + half);
        }
    }

    /** One configuration (a point of the grid without its seed) over its finished runs. */
    public record Group(String config, String label, String method, Map<String, Object> axes, String model,
                        List<ResultsTable.Row> rows, Stat test, Stat best, Stat val, double density,
                        double activeParams, double flopsForward, double flopsTrain, double samplesPerS,
                        double seconds, List<Diff> diffs) {
        double[] testValues() { return values(rows, RunSummary::testAccuracy); }
    }

    static double[] values(List<ResultsTable.Row> rows, Function<RunSummary, Number> metric) {
        double[] v = new double[rows.size()];
        for (int i = 0; i < v.length; i++) v[i] = rows.get(i).num(metric);
        return v;
    }

    private static double mean(double[] v) { return Stat.of(v).mean; }

    public static List<Group> groups(Grid g, List<ResultsTable.Row> all) {
        Map<String, List<ResultsTable.Row>> by = new LinkedHashMap<>();
        for (Grid.Point p : g.points) by.putIfAbsent(p.configName(), new ArrayList<>()); // grid order
        for (ResultsTable.Row r : all) {
            if (r.status().equals("finished")) by.computeIfAbsent(r.point().configName(), k -> new ArrayList<>()).add(r);
        }
        List<Group> out = new ArrayList<>();
        for (List<ResultsTable.Row> rows : by.values()) if (!rows.isEmpty()) out.add(group(rows, List.of()));
        List<String> baselines = baselineLabels(g, out);
        List<Group> withDiffs = new ArrayList<>();
        for (Group x : out) {
            List<Diff> diffs = new ArrayList<>();
            for (String b : baselines) {
                Group base = match(x, b, out);
                if (base == null || base.config.equals(x.config)) diffs.add(null);
                else diffs.add(Diff.welch(b, x.testValues(), base.testValues()));
            }
            withDiffs.add(group(x.rows, diffs));
        }
        return withDiffs;
    }

    private static Group group(List<ResultsTable.Row> rows, List<Diff> diffs) {
        Grid.Point p = rows.get(0).point();
        Map<String, Object> axes = new LinkedHashMap<>(p.axes());
        axes.remove("seed");
        double[] ff = new double[rows.size()], ft = new double[rows.size()];
        for (int i = 0; i < ff.length; i++) {
            ff[i] = rows.get(i).flops(RunSummary.FlopsPerSample::forward);
            ft[i] = rows.get(i).flops(RunSummary.FlopsPerSample::train);
        }
        return new Group(p.configName(), p.label(), p.method(), axes, p.config().modelKind().spelling(), rows,
                Stat.of(values(rows, RunSummary::testAccuracy)), Stat.of(values(rows, RunSummary::bestTestAccuracy)),
                Stat.of(values(rows, RunSummary::valAccuracy)), mean(values(rows, RunSummary::density)),
                mean(values(rows, RunSummary::activeParams)), mean(ff), mean(ft),
                mean(values(rows, RunSummary::trainSamplesPerSecond)), mean(values(rows, RunSummary::seconds)), diffs);
    }

    /** The spec's baseline labels, or else the method of the first dense configuration. */
    static List<String> baselineLabels(Grid g, List<Group> groups) {
        if (!g.spec.baseline().isEmpty()) return g.spec.baseline();
        for (Grid.Point p : g.points) {
            if (p.config().modelKind() == ModelKind.DENSE) return List.of(p.label() != null ? p.label() : p.method());
        }
        return List.of();
    }

    /** The baseline group for x: the baseline's configuration that agrees with x on every non-structural option both sweep. */
    static Group match(Group x, String baseline, List<Group> groups) {
        for (Group b : groups) {
            String id = b.label != null ? b.label : b.method;
            if (!id.equals(baseline)) continue;
            boolean ok = true;
            for (Map.Entry<String, Object> e : b.axes.entrySet()) {
                if (STRUCTURE_KEYS.contains(e.getKey()) || !x.axes.containsKey(e.getKey())) continue;
                if (!String.valueOf(e.getValue()).equals(String.valueOf(x.axes.get(e.getKey())))) { ok = false; break; }
            }
            if (ok) return b;
        }
        return null;
    }

    // ---------- tables ----------

    public static String csv(Grid g, List<Group> groups) {
        List<String> baselines = baselineLabels(g, groups);
        StringBuilder sb = new StringBuilder("config,label,method");
        List<String> cols = new ArrayList<>(g.columns);
        cols.remove("seed");
        for (String c : cols) sb.append(',').append(c);
        sb.append(",n,test_accuracy_mean,test_accuracy_sd,test_accuracy_ci95,best_test_accuracy_mean,best_test_accuracy_ci95,"
                + "val_accuracy_mean,density,active_params,flops_forward,flops_train,train_samples_per_second,seconds");
        for (String b : baselines) {
            sb.append(",diff_vs_").append(b).append(",diff_vs_").append(b).append("_ci95_low,diff_vs_").append(b).append("_ci95_high");
        }
        sb.append('\n');
        for (Group x : groups) {
            Grid.Point p = x.rows.get(0).point();
            sb.append(ResultsTable.field(x.config)).append(',').append(ResultsTable.field(x.label == null ? "" : x.label))
                    .append(',').append(ResultsTable.field(x.method));
            for (String c : cols) sb.append(',').append(ResultsTable.field(Grid.format(p.config().get(c))));
            sb.append(',').append(x.test.n)
                    .append(',').append(ResultsTable.num(x.test.mean)).append(',').append(ResultsTable.num(x.test.sd))
                    .append(',').append(ResultsTable.num(x.test.ci95))
                    .append(',').append(ResultsTable.num(x.best.mean)).append(',').append(ResultsTable.num(x.best.ci95))
                    .append(',').append(ResultsTable.num(x.val.mean)).append(',').append(ResultsTable.num(x.density))
                    .append(',').append(ResultsTable.integer(x.activeParams)).append(',').append(ResultsTable.integer(x.flopsForward))
                    .append(',').append(ResultsTable.integer(x.flopsTrain))
                    .append(',').append(String.format(Locale.ROOT, "%.1f", x.samplesPerS))
                    .append(',').append(String.format(Locale.ROOT, "%.3f", x.seconds));
            for (Diff d : x.diffs) {
                if (d == null) sb.append(",,,");
                else sb.append(',').append(ResultsTable.num(d.diff)).append(',').append(ResultsTable.num(d.lo))
                        .append(',').append(ResultsTable.num(d.hi));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    public static String markdown(Grid g, List<Group> groups, int finished, int total) {
        List<String> baselines = baselineLabels(g, groups);
        StringBuilder sb = new StringBuilder();
        sb.append("# Sweep ").append(g.spec.name()).append("\n\n");
        sb.append(String.format(Locale.ROOT, "%d of %d runs finished. Test accuracy over seeds: mean ± standard deviation, "
                + "[95%% confidence interval of the mean, t distribution]; differences to the baseline with a Welch 95%% interval. "
                + "Density: kept fraction of hidden-layer edges at the end of training. FLOPs: forward pass per sample.%n%n",
                finished, total));
        sb.append("| configuration | n | test accuracy (%) | 95% CI | best test acc. (%) | density | active params | MFLOPs/sample |");
        for (String b : baselines) sb.append(" Δ vs ").append(b).append(" (pp, 95% CI) |");
        sb.append("\n|---|---:|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < baselines.size(); i++) sb.append("---:|");
        sb.append('\n');
        for (Group x : groups) {
            sb.append("| ").append(x.config).append(" | ").append(x.test.n).append(" | ")
                    .append(pct(x.test.mean)).append(x.test.n > 1 ? " ± " + pct(x.test.sd) : "").append(" | ")
                    .append(Double.isNaN(x.test.ci95) ? "–" : "[" + pct(x.test.mean - x.test.ci95) + ", " + pct(x.test.mean + x.test.ci95) + "]")
                    .append(" | ").append(pct(x.best.mean)).append(" | ")
                    .append(String.format(Locale.ROOT, "%.4f", x.density)).append(" | ")
                    .append(String.format(Locale.ROOT, "%,.0f", x.activeParams)).append(" | ")
                    .append(String.format(Locale.ROOT, "%.4g", x.flopsForward / 1e6)).append(" |");
            for (Diff d : x.diffs) {
                if (d == null) sb.append(" – |");
                else sb.append(' ').append(signed(d.diff)).append(Double.isNaN(d.lo) ? "" : " [" + signed(d.lo) + ", " + signed(d.hi) + "]").append(" |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String pct(double f) { return Double.isNaN(f) ? "–" : String.format(Locale.ROOT, "%.2f", 100 * f); }

    private static String signed(double f) { return Double.isNaN(f) ? "–" : String.format(Locale.ROOT, "%+.2f", 100 * f); }
}
