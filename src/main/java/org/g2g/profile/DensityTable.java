package org.g2g.profile;

import org.g2g.backend.Backend;
import org.g2g.config.RunConfig;
import org.g2g.model.Mask;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Is the cost of a sparse step proportional to its active edges? The default model's whole
 * training step (train's own step, as `g2g profile` times it) with Erdos-Renyi masks at several
 * densities, against a limit built from the dense model of the same widths measured in the
 * same process:
 *
 * <pre>
 *   limit(d) = 1.5 x (d x dense step + fixed)
 *   fixed    = dense step - its hidden layers' products (forward + input gradient + weight
 *              gradient of each dense hidden layer, timed alone) - their share of the optimizer
 * </pre>
 *
 * so "fixed" is what a step costs besides the hidden layers: the dense output layer, the encoder,
 * data, loss, biases, ReLU masks (per-sample overheads). This reads issue 13's formula literally
 * (the d x dense-step term also scales those overheads by d). The DST update, amortised over
 * update-every, is part of the sparse step and is printed beside it.
 *
 * Every figure is the median of {@link #ROUNDS} rounds over (dense, each ER density): fixed is a
 * difference of two timings that each move 10-20% between runs on a shared machine, and with one
 * round it came out anywhere from 1.6 to 12.5 ms in four runs within four minutes (2-core AMD EPYC,
 * docs/measurements-cpu-edges.md), which decided the verdict at 5% and 10% by itself.
 */
public final class DensityTable {
    private DensityTable() {}

    public static final List<Double> DEFAULT_DENSITIES = List.of(0.10, 0.05, 0.02, 0.01);
    /** The allowance: sparse kernels at most 1.5x slower per FLOP than the dense ones. */
    public static final double SLACK = 1.5;
    /** Rounds over all models; the table reports medians. */
    public static final int ROUNDS = 3;

    /** One ER density: step ms (median throughput's step time, median over rounds), of which the amortised DST update, and the limit. */
    public record Row(double density, double actualDensity, double stepMs, double dstMs, double limitMs) {
        public double ratio() { return stepMs / limitMs; }
        public boolean within() { return stepMs <= limitMs; }
    }

    public record Result(String widths, double denseStepMs, double hiddenMs, double fixedMs, List<Row> rows) {}

    /** Profile options for each model of the table: short, since the table runs five models. */
    public static Profiler.Options options(int warmup, int steps, int repeats) {
        return new Profiler.Options(warmup, steps, repeats, 0, List.of("dense"), false, 1, 0, 0, 0.3);
    }

    public static Result run(Backend be, RunConfig base, List<Double> densities, Profiler.Options o, PrintStream log) {
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        RunConfig dense = base.with(Map.of("model", "dense"));
        int n = densities.size();
        double[] denseSteps = new double[ROUNDS], hiddens = new double[ROUNDS], fixeds = new double[ROUNDS];
        double[][] steps = new double[n][ROUNDS], dsts = new double[n][ROUNDS];
        double[] actual = new double[n];
        String widths = null;
        for (int round = 0; round < ROUNDS; round++) {
            ProfileReport.ModelProfile d = one(be, dense, "dense", o, quiet);
            double denseStep = stepMs(d, base.batch());
            double hidden = hiddenMs(be, dense, d, o);
            widths = widths(d.widths());
            if (hidden > denseStep) {
                log.printf(Locale.ROOT, "warning: round %d: the dense hidden layers timed alone (%.2f ms) exceed the whole dense step"
                        + " (%.2f ms): timings are noisy (load?); fixed taken as 0%n", round + 1, hidden, denseStep);
            }
            denseSteps[round] = denseStep;
            hiddens[round] = hidden;
            fixeds[round] = Math.max(0, denseStep - hidden);
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "round %d: dense step %.2f ms, hidden layers %.2f ms,"
                    + " fixed %.2f ms; er", round + 1, denseStep, hidden, fixeds[round]));
            for (int k = 0; k < n; k++) {
                RunConfig er = base.with(Map.of("model", "er", "density", densities.get(k)));
                ProfileReport.ModelProfile m = one(be, er, "er", o, quiet);
                actual[k] = m.density();
                steps[k][round] = stepMs(m, base.batch());
                dsts[k][round] = m.stepMs().dst() + m.stepMs().hebbian();
                sb.append(String.format(Locale.ROOT, " %s: %.2f ms", densities.get(k), steps[k][round]));
            }
            log.println(sb);
        }
        double denseStep = Timing.median(denseSteps), fixed = Timing.median(fixeds);
        log.printf(Locale.ROOT, "dense %s (median of %d rounds): step %.2f ms, hidden layers %.2f ms (products timed alone + their"
                + " optimizer share), fixed %.2f ms (output layer, encoder, data, loss, per-sample overheads)%n",
                widths, ROUNDS, denseStep, Timing.median(hiddens), fixed);
        List<Row> rows = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            double dens = densities.get(k);
            rows.add(new Row(dens, actual[k], Timing.median(steps[k]), Timing.median(dsts[k]), SLACK * (dens * denseStep + fixed)));
        }
        return new Result(widths, denseStep, Timing.median(hiddens), fixed, rows);
    }

    private static ProfileReport.ModelProfile one(Backend be, RunConfig c, String name, Profiler.Options o, PrintStream log) {
        Profiler.Options oo = new Profiler.Options(o.warmup(), o.steps(), o.repeats(), o.windowSteps(), List.of(name),
                o.realData(), o.dstUpdates(), o.calibrationSize(), o.calibrationBatch(), o.calibrationSeconds());
        return Profiler.run(c, oo, be, log).models().get(0);
    }

    /** Step time at the median throughput (what samples/s reports; robust to stray slow steps), DST amortised in. */
    private static double stepMs(ProfileReport.ModelProfile m, int batch) {
        return 1000.0 * batch / m.samplesPerSecond().median() + m.stepMs().dst() + m.stepMs().hebbian();
    }

    /**
     * The dense hidden layers' share of the dense step: each layer's three products timed alone
     * (the first layer's input gradient only where an encoder needs it), plus the optimizer phase
     * scaled by the hidden layers' share of the parameters.
     */
    private static double hiddenMs(Backend be, RunConfig dense, ProfileReport.ModelProfile d, Profiler.Options o) {
        int[] w = d.widths();
        boolean encoder = org.g2g.model.PatchEncoder.of(dense, ProfileSetup.shape(dense.dataset())[0]) != null;
        double ms = 0;
        long params = 0;
        Random rng = new Random(dense.seed());
        for (int l = 0; l + 2 < w.length; l++) {
            LayerBench.Times t = LayerBench.time(be, Mask.dense(w[l + 1], w[l]), dense.batch(), 0.3, rng);
            ms += t.layerMs() - (l == 0 && !encoder ? t.inputGradMs() : 0);
            params += (long) w[l + 1] * w[l] + w[l + 1];
        }
        return ms + d.stepMs().optimizer() * params / Math.max(1, d.activeParams());
    }

    static String widths(int[] w) {
        StringBuilder sb = new StringBuilder().append(w[0]);
        int k = 1;
        while (k < w.length - 1) {
            int j = k;
            while (j + 1 < w.length - 1 && w[j + 1] == w[k]) j++;
            sb.append('-').append(w[k]);
            if (j > k) sb.append('x').append(j - k + 1);
            k = j + 1;
        }
        return sb.append('-').append(w[w.length - 1]).toString();
    }

    public static String text(Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "cost against active edges (ER masks, %s; medians of %d rounds; limit = %.1f x (density x"
                + " dense step %.2f ms + fixed %.2f ms)):%n", r.widths(), ROUNDS, SLACK, r.denseStepMs(), r.fixedMs()));
        sb.append(String.format(Locale.ROOT, "%8s %8s %9s %8s %9s %7s  %s%n", "density", "actual", "step ms", "of DST", "limit ms",
                "ratio", "within"));
        for (Row w : r.rows()) {
            sb.append(String.format(Locale.ROOT, "%8.3f %8.4f %9.2f %8.2f %9.2f %6.2fx  %s%n", w.density(), w.actualDensity(),
                    w.stepMs(), w.dstMs(), w.limitMs(), w.ratio(), w.within() ? "yes" : "NO"));
        }
        return sb.toString();
    }

    public static String csv(Result r) {
        StringBuilder sb = new StringBuilder("density,actual_density,step_ms,dst_ms,limit_ms,dense_step_ms,fixed_ms\n");
        for (Row w : r.rows()) {
            sb.append(String.format(Locale.ROOT, "%s,%.6f,%.4f,%.4f,%.4f,%.4f,%.4f%n", w.density(), w.actualDensity(), w.stepMs(),
                    w.dstMs(), w.limitMs(), r.denseStepMs(), r.fixedMs()));
        }
        return sb.toString();
    }
}
