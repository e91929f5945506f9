package org.g2g.profile;

import org.g2g.UserError;
import org.g2g.Version;
import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.config.RunConfig;
import org.g2g.data.Split;
import org.g2g.device.Backends;
import org.g2g.train.ResidentSplit;
import org.g2g.train.TrainRun;
import org.g2g.train.Trainer;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * `g2g profile`: where the time of a training step goes, for one or more models in one process.
 * Every model runs train's own step ({@link Trainer#trainStep}) on the same backend with a
 * phase timer that waits for the device at every phase boundary, so each phase is charged
 * the device work it queued. Per model and repeat: a fresh model, warm-up steps (JIT, module
 * loads, handles; not timed), then timed steps whose throughput is taken over windows of
 * steps. DST updates never fire inside the timed steps: an update is timed on its own
 * afterwards (forced at an update step) and amortised over update-every, and the Hebbian
 * correlation product is timed on its own on every sparse layer's shapes.
 */
public final class Profiler {
    private Profiler() {}

    public record Options(int warmup, int steps, int repeats, int windowSteps, List<String> compare, boolean realData,
                          int dstUpdates, int calibrationSize, int calibrationBatch, double calibrationSeconds) {
        public Options {
            if (warmup < 0) throw new UserError("option --warmup: must be 0 or more, got " + warmup);
            if (steps < 1) throw new UserError("option --steps: must be at least 1, got " + steps);
            if (repeats < 1) throw new UserError("option --repeats: must be at least 1, got " + repeats);
            if (windowSteps < 0) throw new UserError("option --window: must be 0 (auto) or more, got " + windowSteps);
            if (compare.isEmpty()) throw new UserError("option --compare: no model named");
            for (String m : compare) {
                if (!MODELS.contains(m)) {
                    throw new UserError("option --compare: '" + m + "' is not one of " + String.join(", ", MODELS));
                }
            }
        }

        /** Steps per throughput window: the given one, or a tenth of the timed steps. */
        public int window() { return Math.min(steps, windowSteps > 0 ? windowSteps : Math.max(1, steps / 10)); }
    }

    /** Model names --compare understands: dense = same widths, dense-matched = dense narrowed to G2G's parameters. */
    public static final List<String> MODELS = List.of("g2g", "er", "dense", "dense-matched");

    /** The run options of one compared model. */
    public static RunConfig variant(RunConfig base, String name) {
        Map<String, Object> ch = new LinkedHashMap<>();
        ch.put("model", name.startsWith("dense") ? "dense" : name);
        ch.put("match-params", name.equals("dense-matched"));
        return base.with(ch);
    }

    /**
     * Aggregate samples/s of k runs of {@code model} at once (k = 1, 2, 4, ... up to maxRuns), each on its
     * own backend as `g2g sweep --parallel k` runs them ({@link ConcurrentRuns}); data of the dataset's shape.
     */
    public static ProfileReport.Concurrency concurrent(RunConfig base, Options o, String model, int maxRuns, PrintStream log) {
        int[] s = ProfileSetup.shape(base.dataset());
        return ConcurrentRuns.measure(variant(base, model), model, maxRuns, o.warmup(), o.steps(), s[0], s[1], log);
    }

    public static ProfileReport run(RunConfig base, Options o, PrintStream log) {
        try (Backend be = Backends.open(base.deviceSpec(), base.threads(), base.sparseEngine(), base.precision(), log)) {
            return run(base, o, be, log);
        }
    }

    public static ProfileReport run(RunConfig base, Options o, Backend be, PrintStream log) {
        log.println("device: " + be.name() + " (" + be.description() + ")");
        double load = LoadCheck.warn(log);
        Split data;
        int features, classes;
        String dataNote;
        if (o.realData()) {
            TrainRun.Data d = TrainRun.loadData(base, log);
            data = d.train();
            features = d.dataset().features();
            classes = d.dataset().classes();
            dataNote = "real " + base.dataset() + " training images";
        } else {
            int[] s = ProfileSetup.shape(base.dataset());
            features = s[0];
            classes = s[1];
            data = ProfileSetup.synthetic(base.batch(), features, classes, base.seed());
            dataNote = "synthetic";
            log.printf(Locale.ROOT, "data: synthetic random batches of %s's shape (%d features, %d classes), not the real "
                    + "images (--real-data uses them); throughput does not depend on the values%n", base.dataset(), features, classes);
        }
        if (data.n() < base.batch()) {
            throw new UserError("option --batch: " + base.batch() + " is larger than the " + data.n() + " training samples");
        }
        int calN = o.calibrationSize() > 0 ? o.calibrationSize() : Calibration.defaultSize(be);
        int calB = o.calibrationBatch() > 0 ? o.calibrationBatch() : Calibration.defaultBatch(be);
        ProfileReport.Calibration cal;
        try {
            cal = Calibration.measure(be, calN, calB, o.calibrationSeconds());
        } catch (OutOfMemoryError e) {
            throw ProfileSetup.memoryError("the calibration GEMM " + calN + "x" + calN + " batch " + calB, e);
        }
        log.printf(Locale.ROOT, "calibration: dense %dx%d batch %d forward: best %.2f ms = %.1f GFLOP/s (the peak for peak%%)%n",
                calN, calN, calB, cal.bestMs(), cal.peakGflops());

        List<String> names = o.compare();
        Map<String, List<StepMeasurement.Run>> runs = new LinkedHashMap<>();
        for (String n : names) runs.put(n, new ArrayList<>());
        try (ResidentSplit resident = new ResidentSplit(be, data); IntVector order = be.ints(data.n())) {
            be.write(order, Trainer.epochOrder(base.seed(), 0, data.n()));
            for (int r = 0; r < o.repeats(); r++) {
                List<String> seq = new ArrayList<>(names);
                if (r % 2 == 1) java.util.Collections.reverse(seq); // alternate, so drift and heat hit all models alike
                for (String n : seq) {
                    StepMeasurement.Run run = StepMeasurement.profileOnce(variant(base, n), o, be, resident, order, features, classes);
                    runs.get(n).add(run);
                    log.printf(Locale.ROOT, "%s, repeat %d/%d: %,.0f samples/s (median over windows), %.2f ms/step%n",
                            n, r + 1, o.repeats(), Timing.median(run.windowSps), run.meanStepMs());
                }
            }
        }
        List<ProfileReport.ModelProfile> models = new ArrayList<>();
        for (String n : names) models.add(ProfileSummary.summarise(n, variant(base, n), runs.get(n), o, cal));
        ProfileReport.Device dev = new ProfileReport.Device(be.name(), be.description(), System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), load, cal);
        ProfileReport.Settings set = new ProfileReport.Settings(base.dataset(), features, classes, dataNote, base.batch(),
                o.warmup(), o.steps(), o.repeats(), o.window(), base.updateEvery(), names);
        return new ProfileReport(ProfileReport.SCHEMA, Version.version(), dev, set, models, ProfileSummary.ratios(models));
    }
}
