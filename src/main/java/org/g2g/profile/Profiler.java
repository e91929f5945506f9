package org.g2g.profile;

import org.g2g.UserError;
import org.g2g.Version;
import org.g2g.backend.Backend;
import org.g2g.device.Backends;
import org.g2g.backend.Correlation;
import org.g2g.backend.IntVector;
import org.g2g.backend.KernelTimes;
import org.g2g.backend.Tensor;
import org.g2g.config.ModelKind;
import org.g2g.config.RunConfig;
import org.g2g.data.Split;
import org.g2g.dst.DynamicSparseTraining;
import org.g2g.dst.HebbianScores;
import org.g2g.dst.DstSettings;
import org.g2g.model.Architecture;
import org.g2g.model.Flops;
import org.g2g.model.Mask;
import org.g2g.model.PatchEncoder;
import org.g2g.train.ResidentSplit;
import org.g2g.train.Layer;
import org.g2g.train.Network;
import org.g2g.train.Optimizer;
import org.g2g.train.Phase;
import org.g2g.train.PhaseTimer;
import org.g2g.train.TrainRun;
import org.g2g.train.Trainer;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

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

    /** Features and classes of a dataset, for synthetic data of its shape. */
    public static int[] shape(String dataset) {
        return switch (dataset) {
            case "fashion-mnist", "mnist" -> new int[]{784, 10};
            case "cifar10" -> new int[]{3072, 10};
            case "cifar100" -> new int[]{3072, 100};
            default -> throw new UserError("option --dataset: no known shape for '" + dataset + "'");
        };
    }

    public static ProfileReport run(RunConfig base, Options o, PrintStream log) {
        try (Backend be = Backends.open(base.deviceSpec(), base.threads(), base.sparseEngine(), log)) {
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
            int[] s = shape(base.dataset());
            features = s[0];
            classes = s[1];
            data = synthetic(base.batch(), features, classes, base.seed());
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
            throw memoryError("the calibration GEMM " + calN + "x" + calN + " batch " + calB, e);
        }
        log.printf(Locale.ROOT, "calibration: dense %dx%d batch %d forward: best %.2f ms = %.1f GFLOP/s (the peak for peak%%)%n",
                calN, calN, calB, cal.bestMs(), cal.peakGflops());

        List<String> names = o.compare();
        Map<String, List<Run>> runs = new LinkedHashMap<>();
        for (String n : names) runs.put(n, new ArrayList<>());
        try (ResidentSplit resident = new ResidentSplit(be, data); IntVector order = be.ints(data.n())) {
            be.write(order, Trainer.epochOrder(base.seed(), 0, data.n()));
            for (int r = 0; r < o.repeats(); r++) {
                List<String> seq = new ArrayList<>(names);
                if (r % 2 == 1) java.util.Collections.reverse(seq); // alternate, so drift and heat hit all models alike
                for (String n : seq) {
                    Run run = profileOnce(variant(base, n), o, be, resident, order, features, classes);
                    runs.get(n).add(run);
                    log.printf(Locale.ROOT, "%s, repeat %d/%d: %,.0f samples/s (median over windows), %.2f ms/step%n",
                            n, r + 1, o.repeats(), Timing.median(run.windowSps), run.meanStepMs());
                }
            }
        }
        List<ProfileReport.ModelProfile> models = new ArrayList<>();
        for (String n : names) models.add(summarise(n, variant(base, n), runs.get(n), o, cal));
        ProfileReport.Device dev = new ProfileReport.Device(be.name(), be.description(), System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), load, cal);
        ProfileReport.Settings set = new ProfileReport.Settings(base.dataset(), features, classes, dataNote, base.batch(),
                o.warmup(), o.steps(), o.repeats(), o.window(), base.updateEvery(), names);
        return new ProfileReport(ProfileReport.SCHEMA, Version.version(), dev, set, models, ratios(models));
    }

    /** Random inputs in [0,1) and labels: 8 batches, at least 16,384 samples, so gathers do not live in cache. */
    static Split synthetic(int batch, int features, int classes, long seed) {
        long want = Math.max(8L * batch, 16384L);
        long cap = Math.max(batch, (1L << 26) / features); // at most 256 MiB of floats
        int n = (int) Math.min(want, Math.min(cap, Integer.MAX_VALUE / Math.max(1, features)));
        n = Math.max(batch, n / batch * batch);
        Random rng = new Random(seed ^ 0x5A17);
        float[] x = new float[n * features];
        for (int k = 0; k < x.length; k++) x[k] = rng.nextFloat();
        int[] y = new int[n];
        for (int s = 0; s < n; s++) y[s] = rng.nextInt(classes);
        return new Split(x, y, n, features);
    }

    /** Measurements of one model in one repeat. */
    static final class Run {
        Architecture arch;
        double[] stepMs;
        double[] windowSps;
        long[] phaseNanos = new long[Phase.values().length];
        double dstUpdateMs, hebbianUpdateMs, correlationMs;
        int hebbianWindow = 1;
        boolean dstEnabled;
        boolean hasSparse;
        Double hostMs;
        Map<String, Double> kernelMs;
        long heapPeak, heapLive, device;
        long flopsActive, flopsDense, flopsExecuted;

        double meanStepMs() {
            double s = 0;
            for (double v : stepMs) s += v;
            return s / stepMs.length;
        }
    }

    static Run profileOnce(RunConfig c, Options o, Backend be, ResidentSplit data, IntVector order, int features, int classes) {
        checkFits(c, features, classes);
        Run run = new Run();
        long live0 = MemoryProbe.liveHeap();
        long dev0 = be.deviceBytes();
        MemoryProbe.resetPeaks();
        Network net = null;
        DynamicSparseTraining dst = null, noDst = null;
        try {
            Architecture arch = Architecture.build(c, features, classes, new Random(c.seed()));
            run.arch = arch;
            Optimizer opt = Optimizer.from(c);
            net = new Network(be, arch, opt, c.batch(), new Random(c.seed() + 1));
            // the real DST (with its score buffers, so memory is train's) for the timed updates; none in the timed steps
            DstSettings settings = DstSettings.of(c);
            dst = new DynamicSparseTraining(settings, net, Long.MAX_VALUE / 4);
            noDst = new DynamicSparseTraining(settings.off(), net, Long.MAX_VALUE / 4);
            flops(run, net, c.batch());
            measureSteps(run, c, o, be, net, noDst, data, order);
            run.heapLive = Math.max(0, MemoryProbe.liveHeap() - live0);
            run.device = Math.max(0, be.deviceBytes() - dev0);
            timeHebbianAndDst(run, c, o, be, net, dst);
            run.heapPeak = MemoryProbe.heapPeak();
            return run;
        } catch (OutOfMemoryError e) {
            closeQuietly(net, dst, noDst);
            net = null;
            dst = noDst = null;
            throw memoryError("model " + c.modelKind() + " (hidden " + c.hidden() + ", layers " + c.layers() + ", batch "
                    + c.batch() + ")", e);
        } catch (RuntimeException e) {
            if (isDeviceOutOfMemory(e)) {
                closeQuietly(net, dst, noDst);
                net = null;
                dst = noDst = null;
                throw new UserError("model " + c.modelKind() + " (hidden " + c.hidden() + ", layers " + c.layers() + ", batch "
                        + c.batch() + ") needs more memory than " + be.name() + " has free (" + e.getMessage()
                        + "); lower --hidden or --batch", e);
            }
            throw e;
        } finally {
            closeQuietly(net, dst, noDst);
        }
    }

    private static void closeQuietly(Network net, DynamicSparseTraining a, DynamicSparseTraining b) {
        try {
            if (a != null) a.close();
            if (b != null) b.close();
            if (net != null) net.close();
        } catch (RuntimeException | OutOfMemoryError ignored) {
            // freeing after a failure: the first error is the one to report
        }
    }

    static boolean isDeviceOutOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && m.matches("(?is).*(out[ _]of[ _]memory|MemoryAllocation).*")) return true;
        }
        return false;
    }

    static UserError memoryError(String what, OutOfMemoryError e) {
        return new UserError(what + " needs more memory than the Java heap allows (max "
                + gib(MemoryProbe.maxHeap()) + "): raise G2G_HEAP (e.g. G2G_HEAP=16g ./g2g profile ...) or lower --hidden / --batch", e);
    }

    private static String gib(long b) { return String.format(Locale.ROOT, "%.1f GiB", b / (double) (1L << 30)); }

    /**
     * Refuses, before allocating, a model whose layers cannot fit: a weight matrix past a Java
     * array, or more bytes than the heap has (a lower bound: the mask and the initial weights).
     */
    static void checkFits(RunConfig c, int features, int classes) {
        int width = c.modelKind() == ModelKind.DENSE && c.matchParams() ? Architecture.matchedWidth(c, features, classes) : c.hidden();
        long bytes = 0;
        int prev = features;
        for (int l = 0; l <= c.layers(); l++) {
            int out = l == c.layers() ? classes : width;
            long edges = (long) out * prev;
            if (edges > Integer.MAX_VALUE - 16) {
                throw new UserError("model " + c.modelKind() + ": layer " + l + " is " + out + " x " + prev + " = " + edges
                        + " weights, more than one Java array holds; lower --hidden");
            }
            bytes += edges * 5 + 4L * out * c.batch() * 2;
            prev = out;
        }
        long free = MemoryProbe.maxHeap() - (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory());
        if (bytes > free) {
            throw new UserError("model " + c.modelKind() + " (hidden " + width + ", layers " + c.layers() + ", batch " + c.batch()
                    + ") needs more memory than the Java heap allows: at least " + gib(bytes) + ", " + gib(free)
                    + " free of " + gib(MemoryProbe.maxHeap()) + "; raise G2G_HEAP (e.g. G2G_HEAP=16g ./g2g profile ...) "
                    + "or lower --hidden / --batch");
        }
    }

    private static void flops(Run run, Network net, int batch) {
        List<Mask> masks = new ArrayList<>();
        long executed = 0;
        for (int l = 0; l < net.depth(); l++) {
            Layer L = net.layers[l];
            masks.add(L.mask);
            executed += 2 * L.plan.macsPerSample() * (l == 0 && net.encoder == null ? 2 : 3);
        }
        PatchEncoder enc = net.encoder == null ? null : net.encoder.spec;
        if (enc != null) executed += 2 * enc.forwardFlops(); // forward and weight gradient
        run.flopsActive = Flops.train(masks, enc) * batch;
        run.flopsDense = Flops.trainDense(masks, enc) * batch;
        run.flopsExecuted = executed * batch;
    }

    private static void measureSteps(Run run, RunConfig c, Options o, Backend be, Network net, DynamicSparseTraining noDst,
                                     ResidentSplit data, IntVector order) {
        int batch = c.batch();
        int batches = data.n / batch;
        float lr = (float) c.lr();
        PhaseTimer timer = new PhaseTimer(be, true);
        KernelTimes kt = be instanceof KernelTimes k ? k : null;
        int total = o.warmup() + o.steps();
        run.stepMs = new double[o.steps()];
        for (int t = 1; t <= total; t++) {
            if (t == o.warmup() + 1) {
                timer.reset(); // warm-up steps leave no trace in the figures
                if (kt != null) kt.resetKernelTimes();
            }
            int off = ((t - 1) % batches) * batch;
            long t0 = System.nanoTime();
            Trainer.trainStep(net, noDst, timer, data, order, off, batch, lr, t);
            be.sync();
            long ns = System.nanoTime() - t0;
            if (t > o.warmup()) run.stepMs[t - o.warmup() - 1] = ns / 1e6;
        }
        for (Phase p : Phase.values()) run.phaseNanos[p.ordinal()] = timer.nanos(p);
        if (kt != null) {
            run.kernelMs = new LinkedHashMap<>();
            for (Map.Entry<String, Double> e : kt.kernelMillis().entrySet()) run.kernelMs.put(e.getKey(), e.getValue() / o.steps());
        }
        int w = o.window();
        int nw = o.steps() / w;
        run.windowSps = new double[nw];
        for (int k = 0; k < nw; k++) {
            double ms = 0;
            for (int s = k * w; s < (k + 1) * w; s++) ms += run.stepMs[s];
            run.windowSps[k] = (double) w * batch / (ms / 1e3);
        }
        if (!be.onHost()) {
            // host overhead: the same steps without waiting for the device, until the host has queued them all
            PhaseTimer free = new PhaseTimer(be, false);
            int n = Math.max(3, o.steps() / 4);
            be.sync();
            long t0 = System.nanoTime();
            for (int t = 1; t <= n; t++) {
                Trainer.trainStep(net, noDst, free, data, order, ((t - 1) % batches) * batch, batch, lr, total + t);
            }
            run.hostMs = (System.nanoTime() - t0) / 1e6 / n;
            be.sync();
        }
    }

    /** Times the correlation product on every sparse layer, then forced DST updates (amortised later). */
    private static void timeHebbianAndDst(Run run, RunConfig c, Options o, Backend be, Network net, DynamicSparseTraining dst) {
        int batch = c.batch();
        DstSettings settings = DstSettings.of(c);
        Correlation kind = settings.correlation();
        double corr = 0;
        for (int l = 0; l < net.depth(); l++) {
            Layer L = net.layers[l];
            if (!L.sparse) continue;
            run.hasSparse = true;
            Tensor y = net.act[l + 1], x = net.act[l];
            try (Tensor scores = be.vector(L.out * L.in)) {
                corr += Timing.median(Timing.samplesMs(be, () -> be.correlation(y, x, batch, kind, scores), 1, 0.05, 3, 20));
            }
        }
        run.correlationMs = corr;
        run.dstEnabled = dst.enabled();
        if (!run.dstEnabled || o.dstUpdates() <= 0) return;
        run.hebbianWindow = settings.needsHebbian() ? HebbianScores.window(c.hebbianEma(), c.updateEvery()) : 0;
        // one untimed update first (its code is cold), then the median of the timed ones
        int n = o.dstUpdates();
        double[] dstMs = new double[n], hebMs = new double[n];
        for (int k = 0; k <= n; k++) {
            PhaseTimer timer = new PhaseTimer(be, true);
            dst.afterStep((long) (k + 1) * c.updateEvery(), batch, timer);
            timer.end();
            if (k == 0) continue;
            dstMs[k - 1] = timer.nanos(Phase.DST) / 1e6;
            hebMs[k - 1] = timer.nanos(Phase.HEBBIAN) / 1e6;
        }
        run.dstUpdateMs = Timing.median(dstMs);
        run.hebbianUpdateMs = Timing.median(hebMs);
    }

    static ProfileReport.ModelProfile summarise(String name, RunConfig c, List<Run> runs, Options o,
                                                ProfileReport.Calibration cal) {
        Run first = runs.get(0);
        int steps = 0;
        long[] ph = new long[Phase.values().length];
        List<Double> win = new ArrayList<>();
        double dst = 0, heb = 0, dstUpd = 0, stepMsSum = 0;
        Double host = null;
        Map<String, Double> kernels = null;
        long heapPeak = 0, heapLive = 0, device = 0;
        for (Run r : runs) {
            steps += r.stepMs.length;
            for (int p = 0; p < ph.length; p++) ph[p] += r.phaseNanos[p];
            for (double v : r.windowSps) win.add(v);
            for (double v : r.stepMs) stepMsSum += v;
            dstUpd += r.dstUpdateMs;
            dst += r.dstUpdateMs / c.updateEvery();
            // the update step's own scores, plus the extra batches an EMA window observes before it
            heb += (r.hebbianUpdateMs + Math.max(0, r.hebbianWindow - 1) * r.correlationMs) / c.updateEvery();
            if (r.hostMs != null) host = (host == null ? 0 : host) + r.hostMs / runs.size();
            if (r.kernelMs != null) {
                if (kernels == null) kernels = new LinkedHashMap<>();
                for (Map.Entry<String, Double> e : r.kernelMs.entrySet()) kernels.merge(e.getKey(), e.getValue() / runs.size(), Double::sum);
            }
            heapPeak = Math.max(heapPeak, r.heapPeak);
            heapLive = Math.max(heapLive, r.heapLive);
            device = Math.max(device, r.device);
        }
        int n = runs.size();
        dst /= n;
        heb /= n;
        dstUpd /= n;
        double corrMs = 0;
        for (Run r : runs) corrMs += r.correlationMs / n;
        ProfileReport.StepMs sm = new ProfileReport.StepMs(ms(ph, Phase.DATA, steps), ms(ph, Phase.FORWARD, steps),
                ms(ph, Phase.LOSS, steps), ms(ph, Phase.INPUT_GRAD, steps), ms(ph, Phase.WEIGHT_GRAD, steps),
                ms(ph, Phase.OPTIMIZER, steps), heb, dst, 0);
        double total = sm.data() + sm.forward() + sm.loss() + sm.inputGrad() + sm.weightGrad() + sm.optimizer() + heb + dst;
        sm = new ProfileReport.StepMs(sm.data(), sm.forward(), sm.loss(), sm.inputGrad(), sm.weightGrad(), sm.optimizer(),
                heb, dst, total);
        double[] w = win.stream().mapToDouble(Double::doubleValue).toArray();
        ProfileReport.Throughput tp = new ProfileReport.Throughput(Timing.median(w), Timing.percentile(w, 10),
                Timing.percentile(w, 90), w.length, c.batch() * 1000.0 / total);
        double meanStepS = stepMsSum / steps / 1e3;
        double gflops = first.flopsActive / meanStepS / 1e9;
        double gflopsDense = first.flopsDense / meanStepS / 1e9;
        Architecture a = first.arch;
        return new ProfileReport.ModelProfile(name, c.modelKind().spelling(), a.widths(), a.density(), a.activeParams(), a.denseParams(),
                steps, tp, sm, first.dstEnabled ? dstUpd : null, first.hasSparse ? corrMs : null, host, kernels,
                new ProfileReport.FlopsPerStep(first.flopsActive, first.flopsDense, first.flopsExecuted), gflops, gflopsDense,
                gflops / cal.peakGflops(), new ProfileReport.Memory(heapPeak, heapLive, device));
    }

    private static double ms(long[] ph, Phase p, int steps) { return ph[p.ordinal()] / 1e6 / steps; }

    static List<ProfileReport.Ratio> ratios(List<ProfileReport.ModelProfile> models) {
        List<ProfileReport.Ratio> out = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            for (int j = i + 1; j < models.size(); j++) {
                ProfileReport.ModelProfile a = models.get(i), b = models.get(j);
                long ma = a.memoryBytes().heapLive() + a.memoryBytes().device();
                long mb = b.memoryBytes().heapLive() + b.memoryBytes().device();
                out.add(new ProfileReport.Ratio(a.name(), b.name(),
                        a.samplesPerSecond().median() / b.samplesPerSecond().median(),
                        a.stepMs().total() / b.stepMs().total(),
                        (double) a.flopsPerStep().active() / b.flopsPerStep().active(),
                        mb == 0 ? null : (double) ma / mb));
            }
        }
        return out;
    }
}
