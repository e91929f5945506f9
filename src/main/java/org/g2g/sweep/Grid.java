package org.g2g.sweep;

import org.g2g.UserError;
import org.g2g.config.ConfigError;
import org.g2g.config.Keys;
import org.g2g.config.ModelKind;
import org.g2g.config.RunConfig;
import org.g2g.model.Architecture;
import org.g2g.model.Flops;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The runs of a sweep: the grid's cartesian product (first option slowest) crossed with the
 * variants (fastest), so a partial sweep has every method at its first seed early. Values are
 * layered defaults &lt; base &lt; command-line options &lt; grid &lt; variant, and every point's
 * RunConfig is built (validated) here, before anything runs.
 */
public final class Grid {
    /** Swept options that only move a method along the density axis; not part of its name in plots. */
    static final Set<String> DENSITY_KEYS = Set.of("p-inter", "p-intra", "density");

    public final SweepSpec spec;
    /** Base options given on the command line (they replace the spec's base values). */
    public final Map<String, Object> cli;
    public final List<Point> points;
    /** Options that vary between runs (grid options, then options set by variants), the results' columns. */
    public final List<String> columns;

    /**
     * One run. axes: the grid options in effect for it (name order), with the values its config
     * holds. configName: name without the seed, i.e. what seeds are averaged over.
     */
    public record Point(int index, String name, String configName, String label, String method,
                        Map<String, Object> axes, RunConfig config) {
        public long estimatedTrainFlops() { return Grid.estimatedTrainFlops(config); }
    }

    private Grid(SweepSpec spec, Map<String, Object> cli, List<Point> points, List<String> columns) {
        this.spec = spec;
        this.cli = cli;
        this.points = Collections.unmodifiableList(points);
        this.columns = Collections.unmodifiableList(columns);
    }

    public static Grid expand(SweepSpec spec, Map<String, Object> cli) {
        Map<String, Object> cliN = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : cli.entrySet()) {
            String k = Keys.get(e.getKey().replace('_', '-')).name();
            if (spec.grid().containsKey(k)) {
                throw new UserError("option --" + k + ": swept by the grid of sweep spec " + spec.origin() + "; drop it from the command line");
            }
            for (SweepSpec.Variant v : spec.variants()) {
                if (v.overrides().containsKey(k)) {
                    throw new UserError("option --" + k + ": set by variant '" + v.label() + "' of sweep spec " + spec.origin()
                            + "; drop it from the command line");
                }
            }
            cliN.put(k, e.getValue());
        }
        List<Map<String, Object>> combos = cartesian(spec.grid());
        List<SweepSpec.Variant> variants = spec.variants().isEmpty() ? Collections.singletonList(null) : spec.variants();
        List<Point> points = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (Map<String, Object> combo : combos) {
            for (SweepSpec.Variant v : variants) {
                Map<String, Object> ov = new LinkedHashMap<>(spec.base());
                ov.putAll(cliN);
                List<String> inEffect = new ArrayList<>();
                for (String k : spec.grid().keySet()) {
                    boolean crossed = v == null || ((v.cross() == null || v.cross().contains(k)) && !v.overrides().containsKey(k));
                    if (crossed) {
                        inEffect.add(k);
                        ov.put(k, combo.get(k));
                    }
                }
                if (v != null) ov.putAll(v.overrides());
                String label = v == null ? null : v.label();
                RunConfig c = build(spec, ov, label, inEffect, combo);
                Map<String, Object> axes = new LinkedHashMap<>();
                for (String k : inEffect) axes.put(k, c.get(k));
                String name = name(label, axes, false);
                if (!names.add(name)) continue; // a variant not crossed with an axis: one run, not one per value
                points.add(new Point(points.size(), name, name(label, axes, true), label, method(label, axes, c), axes, c));
            }
        }
        List<String> columns = new ArrayList<>(spec.grid().keySet());
        for (SweepSpec.Variant v : spec.variants()) {
            for (String k : v.overrides().keySet()) if (!columns.contains(k)) columns.add(k);
        }
        return new Grid(spec, cliN, points, columns);
    }

    private static RunConfig build(SweepSpec spec, Map<String, Object> ov, String label, List<String> axes,
                                   Map<String, Object> combo) {
        try {
            RunConfig c = RunConfig.builder().setAll(ov).build();
            Architecture.requireReachable(c);
            return c;
        } catch (ConfigError e) {
            StringBuilder where = new StringBuilder();
            if (label != null) where.append("variant ").append(label);
            for (String k : axes) where.append(where.length() > 0 ? ", " : "").append(k).append('=').append(combo.get(k));
            throw new UserError("sweep spec " + spec.origin() + (where.length() > 0 ? " (run " + where + ")" : "") + ": "
                    + e.getMessage());
        }
    }

    static List<Map<String, Object>> cartesian(Map<String, List<Object>> grid) {
        List<Map<String, Object>> out = new ArrayList<>();
        out.add(new LinkedHashMap<>());
        for (Map.Entry<String, List<Object>> axis : grid.entrySet()) {
            List<Map<String, Object>> next = new ArrayList<>();
            for (Map<String, Object> partial : out) {
                for (Object v : axis.getValue()) {
                    Map<String, Object> m = new LinkedHashMap<>(partial);
                    m.put(axis.getKey(), v);
                    next.add(m);
                }
            }
            out = next;
        }
        return out;
    }

    /** The run directory name: label, then option=value for each axis, '_'-separated. */
    static String name(String label, Map<String, Object> axes, boolean withoutSeed) {
        StringBuilder sb = new StringBuilder(label == null ? "" : label);
        for (Map.Entry<String, Object> e : axes.entrySet()) {
            if (withoutSeed && e.getKey().equals("seed")) continue;
            if (sb.length() > 0) sb.append('_');
            sb.append(e.getKey()).append('=').append(format(e.getValue()));
        }
        if (sb.length() == 0) return "base";
        return sanitize(sb.toString());
    }

    private static String method(String label, Map<String, Object> axes, RunConfig c) {
        StringBuilder sb = new StringBuilder(label != null ? label
                : c.modelKind() + (c.modelKind() == ModelKind.G2G ? "-" + c.groupingStrategy() : "") + (c.matchParams() ? "-matched" : ""));
        for (Map.Entry<String, Object> e : axes.entrySet()) {
            String k = e.getKey();
            if (k.equals("seed") || DENSITY_KEYS.contains(k)) continue;
            if (label == null && (k.equals("model") || k.equals("grouping") || k.equals("match-params"))) continue;
            sb.append(' ').append(k).append('=').append(format(e.getValue()));
        }
        return sb.toString();
    }

    /** A value as it appears in names and tables: 0.10 and 0.1 alike, 1e-3 as 0.001. */
    public static String format(Object v) {
        if (v == null) return "";
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (!Double.isFinite(d)) return Double.toString(d);
            return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
        }
        return v.toString();
    }

    static String sanitize(String s) {
        return s.replaceAll("[^A-Za-z0-9._=+-]", "-");
    }

    /** Input features and classes by dataset, for cost estimates before any data is read. */
    static int[] shape(String dataset) {
        return switch (dataset) {
            case "cifar10" -> new int[]{3072, 10, 50000};
            case "cifar100" -> new int[]{3072, 100, 50000};
            default -> new int[]{784, 10, 60000};
        };
    }

    /** Training FLOPs of the whole run (train FLOPs per sample at the initial masks x samples x epochs). */
    static long estimatedTrainFlops(RunConfig c) {
        int[] s = shape(c.dataset());
        long n = c.limitTrain() > 0 ? Math.min(c.limitTrain(), s[2]) : s[2];
        n = Math.max(1, n - c.valSplit());
        try {
            Architecture a = Architecture.build(c, s[0], s[1], new Random(c.seed()));
            return Flops.train(a.masks(), a.encoder()) * n * c.epochs();
        } catch (UserError e) {
            return 0; // shape problems surface when the run loads its data
        }
    }
}
