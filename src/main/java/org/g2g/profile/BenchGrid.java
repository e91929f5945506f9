package org.g2g.profile;

import org.g2g.UserError;
import org.g2g.backend.Backend;
import org.g2g.model.Mask;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * `g2g bench`: square layers (width x width) over a grid of widths, batches, densities and
 * group counts, each operation of the block-masked kernel timed against the same backend's
 * dense kernel (the plan of a fully dense mask: the path dense baselines train on), and
 * against further sparse engines (cuSPARSE) where given. Speedup = dense ms / sparse ms.
 */
public final class BenchGrid {
    private BenchGrid() {}

    public static final List<String> OPS = List.of("forward", "input_grad", "weight_grad", "layer");

    public record Spec(List<Integer> widths, List<Integer> batches, List<Double> densities, List<Integer> groups,
                       double minSeconds, long seed) {
        public Spec {
            for (int w : widths) if (w < 1) throw new UserError("option --widths: " + w + " is not a width");
            for (int b : batches) if (b < 1) throw new UserError("option --batches: " + b + " is not a batch size");
            for (double d : densities) {
                if (!(d > 0 && d <= 1)) throw new UserError("option --densities: " + d + " is not in (0, 1]");
            }
            for (int g : groups) if (g < 1) throw new UserError("option --groups: " + g + " is not a group count");
            for (int w : widths) {
                if ((long) w * w > Integer.MAX_VALUE - 16) throw new UserError("option --widths: " + w + " x " + w + " is past a Java array");
            }
        }

        public static Spec defaults() {
            return new Spec(List.of(256, 1024, 4096), List.of(256), List.of(1.0, 0.9, 0.75, 0.5, 0.25, 0.1, 0.05, 0.01),
                    List.of(1, 4, 8, 16), 0.2, 1);
        }
    }

    /**
     * One timing. op: forward, input_grad, weight_grad, layer (their sum: the layer's share of a
     * training step) or correlation (groups 0, dense, no speedup). engine: the sparse engine.
     */
    public record Row(int width, int batch, int groups, double density, double actualDensity, String op, String engine,
                      double ms, double denseMs, Double speedup, double gflops, Double speedupLow, Double speedupHigh) {
        /** A row without a spread (every op but layer). */
        public Row(int width, int batch, int groups, double density, double actualDensity, String op, String engine,
                   double ms, double denseMs, Double speedup, double gflops) {
            this(width, batch, groups, density, actualDensity, op, engine, ms, denseMs, speedup, gflops, null, null);
        }
    }

    /** Where the speedup of an op crosses 1, interpolated in log density; null when sparse never wins. */
    public record BreakEven(int width, int batch, int groups, String op, String engine, Double density, String note) {}

    public record Result(String device, String description, Spec spec, List<Row> rows, List<BreakEven> breakEvens) {}

    /** engines: label -> backend; the first is also the dense reference. */
    public static Result run(Map<String, Backend> engines, Spec s, PrintStream log) {
        Backend ref = engines.values().iterator().next();
        Random rng = new Random(s.seed());
        List<Row> rows = new ArrayList<>();
        LoadCheck.warn(log);
        warmUp(engines, s, rng, log);
        for (int w : s.widths()) {
            for (int b : s.batches()) {
                LayerBench.Times dense = LayerBench.time(ref, Mask.dense(w, w), b, s.minSeconds(), rng);
                double flops = 2.0 * w * w * b;
                log.printf(Locale.ROOT, "width %d batch %d dense: forward %.3f ms, input-grad %.3f ms, weight-grad %.3f ms%n",
                        w, b, dense.forwardMs(), dense.inputGradMs(), dense.weightGradMs());
                for (var e : engines.entrySet()) {
                    double corr = LayerBench.correlation(e.getValue(), w, w, b, s.minSeconds(), rng);
                    rows.add(new Row(w, b, 0, 1.0, 1.0, "correlation", e.getKey(), corr, Double.NaN, null, flops / corr / 1e6));
                }
                for (int g : s.groups()) {
                    if (w % g != 0) {
                        log.printf("width %d: skipping groups %d (does not divide the width)%n", w, g);
                        continue;
                    }
                    for (double d : s.densities()) {
                        Mask m = LayerBench.g2gMask(w, w, g, d, rng);
                        double actual = m.density();
                        for (var e : engines.entrySet()) {
                            // a full mask is the dense reference itself (same plan, same kernel): not timed twice
                            LayerBench.Times t = m.isDense() && e.getValue() == ref ? dense
                                    : LayerBench.time(e.getValue(), m, b, s.minSeconds(), rng);
                            double[] sp = {t.forwardMs(), t.inputGradMs(), t.weightGradMs(), t.layerMs()};
                            double[] dn = {dense.forwardMs(), dense.inputGradMs(), dense.weightGradMs(), dense.layerMs()};
                            for (int k = 0; k < OPS.size(); k++) {
                                double f = flops * actual * (k == 3 ? 3 : 1);
                                // the layer's spread: the slow end of the sparse band against the fast end of the dense one, and back
                                Double lo = k == 3 ? dense.layerLowMs() / t.layerHighMs() : null;
                                Double hi = k == 3 ? dense.layerHighMs() / t.layerLowMs() : null;
                                rows.add(new Row(w, b, g, d, actual, OPS.get(k), e.getKey(), sp[k], dn[k], dn[k] / sp[k],
                                        f / sp[k] / 1e6, lo, hi));
                            }
                            log.printf(Locale.ROOT, "width %d batch %d groups %d density %.3f (%s): layer %.3f ms, speedup %.2fx%n",
                                    w, b, g, actual, e.getKey(), t.layerMs(), dense.layerMs() / t.layerMs());
                        }
                    }
                }
            }
        }
        return new Result(ref.name(), ref.description(), s, rows, breakEvens(rows));
    }

    /**
     * Runs every kernel the grid will time on the smallest shape first, so the JIT has compiled
     * them before the first timed point (else the first dense reference is timed cold).
     */
    private static void warmUp(Map<String, Backend> engines, Spec s, Random rng, PrintStream log) {
        int w = s.widths().stream().min(Integer::compare).orElseThrow();
        int b = s.batches().stream().min(Integer::compare).orElseThrow();
        long t0 = System.nanoTime();
        for (Backend be : engines.values()) {
            LayerBench.time(be, Mask.dense(w, w), b, s.minSeconds(), rng);
            LayerBench.correlation(be, w, w, b, s.minSeconds(), rng);
            for (int g : s.groups()) {
                if (w % g == 0) LayerBench.time(be, LayerBench.g2gMask(w, w, g, 0.2, rng), b, s.minSeconds(), rng);
            }
        }
        log.printf(Locale.ROOT, "warm-up (not recorded): %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    static List<BreakEven> breakEvens(List<Row> rows) {
        Map<String, List<Row>> by = new LinkedHashMap<>();
        for (Row r : rows) {
            if (r.speedup() == null) continue;
            by.computeIfAbsent(r.width() + "/" + r.batch() + "/" + r.groups() + "/" + r.op() + "/" + r.engine(),
                    k -> new ArrayList<>()).add(r);
        }
        List<BreakEven> out = new ArrayList<>();
        for (List<Row> rs : by.values()) {
            Row r0 = rs.get(0);
            double[] d = new double[rs.size()], sp = new double[rs.size()];
            for (int k = 0; k < rs.size(); k++) { d[k] = rs.get(k).actualDensity(); sp[k] = rs.get(k).speedup(); }
            BreakEven be = breakEven(d, sp);
            out.add(new BreakEven(r0.width(), r0.batch(), r0.groups(), r0.op(), r0.engine(), be.density(), be.note()));
        }
        return out;
    }

    /**
     * The density at which sparse stops paying: walking up from the sparsest point, the first
     * crossing of speedup = 1, linear in log density between the two measured points around
     * it. Points at density 1 are left out: that mask is dense, the same kernel as the
     * reference, so its speedup is 1 give or take noise.
     */
    public static BreakEven breakEven(double[] density, double[] speedup) {
        List<Integer> idx = new ArrayList<>();
        for (int k = 0; k < density.length; k++) if (density[k] < 0.999) idx.add(k);
        idx.sort(Comparator.comparingDouble(k -> density[k])); // sparsest first
        if (idx.isEmpty()) return new BreakEven(0, 0, 0, "", "", null, "no sparse points");
        if (speedup[idx.get(0)] < 1) return new BreakEven(0, 0, 0, "", "", null, "dense faster at every density measured");
        for (int k = 1; k < idx.size(); k++) {
            int lo = idx.get(k - 1), hi = idx.get(k);
            if (speedup[hi] < 1) {
                double t = (speedup[lo] - 1) / (speedup[lo] - speedup[hi]);
                double ld = Math.log(density[lo]) + t * (Math.log(density[hi]) - Math.log(density[lo]));
                return new BreakEven(0, 0, 0, "", "", Math.exp(ld), "interpolated");
            }
        }
        return new BreakEven(0, 0, 0, "", "", density[idx.get(idx.size() - 1)],
                "sparse at least as fast up to the densest sparse point measured");
    }

    /** speedup_low / speedup_high (layer rows only): the spread of the speedup from both timings' quartiles. */
    public static final String CSV_HEADER = "width,batch,groups,density,actual_density,op,engine,ms,dense_ms,speedup,gflops,device,"
            + "speedup_low,speedup_high";

    public static String csv(Result r) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (Row x : r.rows()) {
            sb.append(String.format(Locale.ROOT, "%d,%d,%d,%s,%.6f,%s,%s,%.6g,%s,%s,%.4g,%s,%s,%s%n", x.width(), x.batch(), x.groups(),
                    x.density(), x.actualDensity(), x.op(), x.engine(), x.ms(),
                    Double.isNaN(x.denseMs()) ? "" : String.format(Locale.ROOT, "%.6g", x.denseMs()),
                    ratio(x.speedup()), x.gflops(), r.device(), ratio(x.speedupLow()), ratio(x.speedupHigh())));
        }
        return sb.toString();
    }

    private static String ratio(Double v) {
        return v == null ? "" : String.format(Locale.ROOT, "%.4f", v);
    }

    public static final String BREAK_EVEN_HEADER = "width,batch,groups,op,engine,break_even_density,note";

    public static String breakEvenCsv(Result r) {
        StringBuilder sb = new StringBuilder(BREAK_EVEN_HEADER).append('\n');
        for (BreakEven b : r.breakEvens()) {
            sb.append(String.format(Locale.ROOT, "%d,%d,%d,%s,%s,%s,%s%n", b.width(), b.batch(), b.groups(), b.op(), b.engine(),
                    b.density() == null ? "" : String.format(Locale.ROOT, "%.4f", b.density()), b.note()));
        }
        return sb.toString();
    }

    /** The break-even densities of the whole layer (forward + both gradients), one line per shape and group count. */
    public static String summary(Result r) {
        StringBuilder sb = new StringBuilder("break-even density (sparse layer = forward + input-grad + weight-grad; "
                + "below it the block-masked kernel beats " + r.device() + "'s dense kernel):\n");
        for (BreakEven b : r.breakEvens()) {
            if (!b.op().equals("layer")) continue;
            sb.append(String.format(Locale.ROOT, "  width %5d batch %5d groups %3d %-8s %s%n", b.width(), b.batch(), b.groups(),
                    b.engine(), b.density() == null ? "none (" + b.note() + ")"
                            : String.format(Locale.ROOT, "%s%.3f (%s)", b.note().startsWith("sparse") ? ">= " : "",
                                    b.density(), b.note())));
        }
        return sb.toString();
    }
}
