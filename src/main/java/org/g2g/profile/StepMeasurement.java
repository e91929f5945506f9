package org.g2g.profile;

import org.g2g.UserError;
import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
import org.g2g.backend.IntVector;
import org.g2g.backend.KernelTimes;
import org.g2g.backend.Tensor;
import org.g2g.config.CudaGraphs;
import org.g2g.config.RunConfig;
import org.g2g.dst.DstSettings;
import org.g2g.dst.DynamicSparseTraining;
import org.g2g.dst.HebbianScores;
import org.g2g.model.Architecture;
import org.g2g.model.Flops;
import org.g2g.model.Mask;
import org.g2g.model.PatchEncoder;
import org.g2g.train.Layer;
import org.g2g.train.Network;
import org.g2g.train.Optimizer;
import org.g2g.train.Phase;
import org.g2g.train.PhaseTimer;
import org.g2g.train.ResidentSplit;
import org.g2g.train.Trainer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One model, one repeat: a fresh model on the backend, warm-up steps, then timed steps of
 * train's own {@link Trainer#trainStep} with the device synchronised at phase boundaries;
 * then, apart from them, the host overhead (a device backend), per-kernel device times (a
 * backend that keeps them), the Hebbian correlation on every sparse layer and forced DST
 * updates. What it measures goes into a {@link Run}.
 */
final class StepMeasurement {
    private StepMeasurement() {}

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
        Double hostMs, launchesPerStep, freeRunningSps;
        Map<String, Double> kernelMs;
        long heapPeak, heapLive, device;
        long flopsActive, flopsDense, flopsExecuted, flopsForward;

        double meanStepMs() {
            double s = 0;
            for (double v : stepMs) s += v;
            return s / stepMs.length;
        }
    }

    static Run profileOnce(RunConfig c, Profiler.Options o, Backend be, ResidentSplit data, IntVector order, int features, int classes) {
        ProfileSetup.checkFits(c, features, classes);
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
            throw ProfileSetup.memoryError("model " + c.modelKind() + " (hidden " + c.hidden() + ", layers " + c.layers() + ", batch "
                    + c.batch() + ")", e);
        } catch (RuntimeException e) {
            if (ProfileSetup.isDeviceOutOfMemory(e)) {
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

    static void closeQuietly(Network net, DynamicSparseTraining a, DynamicSparseTraining b) {
        try {
            if (a != null) a.close();
            if (b != null) b.close();
            if (net != null) net.close();
        } catch (RuntimeException | OutOfMemoryError ignored) {
            // freeing after a failure: the first error is the one to report
        }
    }

    static void flops(Run run, Network net, int batch) {
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
        run.flopsForward = Flops.forward(masks, enc) * batch;
    }

    static void measureSteps(Run run, RunConfig c, Profiler.Options o, Backend be, Network net, DynamicSparseTraining noDst,
                                     ResidentSplit data, IntVector order) {
        int batch = c.batch();
        int batches = data.n / batch;
        float lr = (float) c.lr();
        PhaseTimer timer = new PhaseTimer(be, true);
        KernelTimes kt = be instanceof KernelTimes k ? k : null;
        int total = o.warmup() + o.steps();
        run.stepMs = new double[o.steps()];
        for (int t = 1; t <= total; t++) {
            if (t == o.warmup() + 1) timer.reset(); // warm-up steps leave no trace in the figures
            int off = ((t - 1) % batches) * batch;
            long t0 = System.nanoTime();
            Trainer.trainStep(net, noDst, timer, data, order, off, batch, lr, t);
            be.sync();
            long ns = System.nanoTime() - t0;
            if (t > o.warmup()) run.stepMs[t - o.warmup() - 1] = ns / 1e6;
        }
        for (Phase p : Phase.values()) run.phaseNanos[p.ordinal()] = timer.nanos(p);
        int w = o.window();
        int nw = o.steps() / w;
        run.windowSps = new double[nw];
        for (int k = 0; k < nw; k++) {
            double ms = 0;
            for (int s = k * w; s < (k + 1) * w; s++) ms += run.stepMs[s];
            run.windowSps[k] = (double) w * batch / (ms / 1e3);
        }
        if (!be.onHost()) {
            // host overhead: the same steps without waiting for the device, until the host has queued them all;
            // with --cuda-graphs on they replay the recorded step (two steps first: one runs, one records)
            PhaseTimer free = new PhaseTimer(be, false);
            int n = Math.max(3, o.steps() / 4);
            net.recordSteps(c.cudaGraphs() == CudaGraphs.ON);
            for (int t = 1; t <= 2; t++) {
                Trainer.trainStep(net, noDst, free, data, order, ((t - 1) % batches) * batch, batch, lr, total + t);
            }
            be.sync();
            long l0 = be.launches();
            long t0 = System.nanoTime();
            for (int t = 3; t <= n + 2; t++) {
                Trainer.trainStep(net, noDst, free, data, order, ((t - 1) % batches) * batch, batch, lr, total + t);
            }
            run.hostMs = (System.nanoTime() - t0) / 1e6 / n;
            run.launchesPerStep = l0 < 0 ? null : (be.launches() - l0) / (double) n;
            be.sync();
            run.freeRunningSps = (double) n * batch / ((System.nanoTime() - t0) / 1e9);
            net.recordSteps(false);
            total += n + 2;
        }
        if (kt != null) {
            // per-kernel device times in a pass of their own: recording events around every launch
            // would slow the timed steps above
            int n = Math.max(3, o.steps() / 4);
            int base = total;
            kt.resetKernelTimes();
            for (int t = 1; t <= n; t++) {
                Trainer.trainStep(net, noDst, new PhaseTimer(be, false), data, order, ((t - 1) % batches) * batch, batch, lr,
                        base + t);
            }
            be.sync();
            run.kernelMs = new LinkedHashMap<>();
            for (Map.Entry<String, Double> e : kt.kernelMillis().entrySet()) run.kernelMs.put(e.getKey(), e.getValue() / n);
        }
    }

    /** Times the correlation product on every sparse layer, then forced DST updates (amortised later). */
    static void timeHebbianAndDst(Run run, RunConfig c, Profiler.Options o, Backend be, Network net, DynamicSparseTraining dst) {
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
}
