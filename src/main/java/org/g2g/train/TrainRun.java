package org.g2g.train;

import org.g2g.UserError;
import org.g2g.Version;
import org.g2g.backend.Backend;
import org.g2g.device.Backends;
import org.g2g.config.CudaGraphs;
import org.g2g.config.RunConfig;
import org.g2g.data.DataLocator;
import org.g2g.data.Dataset;
import org.g2g.data.ImageFormat;
import org.g2g.data.Split;
import org.g2g.data.Splits;
import org.g2g.data.Standardise;
import org.g2g.dst.DynamicSparseTraining;
import org.g2g.io.SafeTensors;
import org.g2g.io.WriterLock;
import org.g2g.model.Architecture;
import org.g2g.model.Flops;
import org.g2g.model.Mask;
import org.g2g.model.PatchEncoder;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One training run end to end: config -> data -> backend -> model -> trainer -> recorder.
 * Shared by `g2g train` and sweeps. A directory that already holds this run is resumed
 * from its checkpoint (or reported finished); a different config there is refused unless forced.
 */
public final class TrainRun {
    private TrainRun() {}

    /**
     * Data after --limit-train/--limit-test and --val-split, standardised (--standardize) with
     * the statistics of the images trained on, which are kept for the model's metadata.
     */
    public record Data(Dataset dataset, Split train, Split val, Split test, Standardise.Stats standardisation) {}

    public static Data loadData(RunConfig c, PrintStream log) {
        Standardise kind = Standardise.parse(c.standardize()); // option errors before any I/O
        Dataset d = DataLocator.load(c.dataset(), c.data() == null ? null : Path.of(c.data()), "none", log);
        Split train = d.train();
        if (c.limitTrain() > 0) train = Splits.limit(train, c.limitTrain());
        Split test = d.test();
        if (c.limitTest() > 0) test = Splits.limit(test, c.limitTest());
        Split val = null;
        if (c.valSplit() > 0) {
            Splits.HoldOut h = Splits.holdOut(train, c.valSplit(), c.seed());
            train = h.train();
            val = h.validation();
        }
        Standardise.Stats st = kind.fit(train);
        st.apply(train);
        st.apply(val);
        st.apply(test);
        if (kind != Standardise.NONE) {
            log.println("data: standardised (" + kind.label() + ") with the statistics of the " + train.n()
                    + " training images");
        }
        return new Data(d, train, val, test, st);
    }

    public static String configJson(RunConfig c) {
        try {
            return RunRecorder.JSON.writeValueAsString(c.asMap());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Trains (or resumes) the run in dir. resume: dir must hold this run; otherwise dir must not
     * hold a run yet. Returns the summary written to summary.json.
     */
    public static RunSummary execute(RunConfig c, Path dir, boolean resume, boolean force, PrintStream log,
                                     TrainListener listener) {
        if (dir.toString().isBlank()) throw new UserError("output directory '': empty path; give a directory name");
        if (resume && !Files.isRegularFile(dir.resolve("config.json"))) {
            throw new UserError("--resume " + dir + ": no run there (config.json missing)");
        }
        // one writer per run directory, from before the data load to the last file written
        try (WriterLock lock = WriterLock.acquire(dir, "g2g train")) {
            int temps = lock.removeStaleTemps();
            if (temps > 0) log.println("removed " + temps + " temp file" + (temps == 1 ? "" : "s") + " left in " + dir + " by an interrupted write");
            boolean exists = Files.isRegularFile(dir.resolve("config.json"));
            if (resume && !exists) throw new UserError("--resume " + dir + ": no run there (config.json missing)");
            if (!resume && exists) {
                throw new UserError("output directory " + dir + " already holds a run; continue it with --resume " + dir
                        + " or choose another --out");
            }
            if (!exists) refuseForeignFiles(dir);
            SafeTensors.Contents ckpt = null;
            RunConfig made = null;
            if (resume) {
                // compare with what the checkpoint was trained with (config.json is only a copy anyone can edit)
                Path ckptFile = dir.resolve("checkpoint.safetensors");
                RunConfig saved = RunRecorder.readConfig(dir);
                made = saved;
                String madeBy = "the saved run";
                if (Files.isRegularFile(ckptFile)) {
                    ckpt = SafeTensors.read(ckptFile);
                    made = Checkpoint.config(ckpt, ckptFile);
                    madeBy = "the config its checkpoint was trained with";
                }
                List<String> diff = made.differences(c);
                if (!diff.isEmpty() && !force) {
                    List<String> edited = made.differences(saved);
                    throw new UserError("--resume " + dir + ": config differs from " + madeBy + " (" + String.join(", ", diff) + ")"
                            + (edited.isEmpty() ? "" : "; config.json was changed after the checkpoint (" + String.join(", ", edited) + ")")
                            + "; add --force to resume with the new values");
                }
                if (!diff.isEmpty()) log.println("--force: resuming with changed options " + diff);
                Path summary = dir.resolve("summary.json");
                if (Files.isRegularFile(summary) && diff.isEmpty()) {
                    RunSummary s = readSummaryOrNull(summary, log);
                    if (s != null && s.finished()) {
                        log.println("run " + dir + " already finished; nothing to do");
                        return s;
                    }
                }
                if (ckpt == null) log.println("no checkpoint in " + dir + " yet: starting the run from the beginning");
            }
            // the device, then the data, before anything is written: a run that cannot start leaves no directory
            long wall0 = System.nanoTime();
            java.time.Instant started = java.time.Instant.now();
            try (Backend be = Backends.open(c.deviceSpec(), c.threads(), c.sparseEngine(), c.precision(), log)) {
                Data data = loadData(c, log);
                RunRecorder rec = new RunRecorder(dir);
                log.println("device: " + be.name() + " (" + be.description() + ")");
                return train(c, data, be, rec, ckpt == null ? null : new Saved(ckpt, made), log, listener, wall0, started);
            }
        }
    }

    /** Names g2g itself leaves in a run directory before config.json exists (a sweep's log and claim). */
    private static final java.util.Set<String> OURS = java.util.Set.of("log.txt", "failed.json", ".claim", ".claim.takeover",
            WriterLock.FILE);

    /** A new run goes into a new or empty directory, never over someone's files (--out . or --out ''). */
    private static void refuseForeignFiles(Path dir) {
        List<String> foreign = new java.util.ArrayList<>();
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!OURS.contains(n)) foreign.add(n);
            }
        } catch (java.io.IOException e) {
            throw new UserError("output directory " + dir + ": cannot list (" + org.g2g.io.AtomicFiles.reason(e) + ")");
        }
        if (!foreign.isEmpty()) {
            java.util.Collections.sort(foreign);
            throw new UserError("output directory " + dir + " is not empty and holds no g2g run (" + foreign.size()
                    + " entries, e.g. " + String.join(", ", foreign.subList(0, Math.min(3, foreign.size())))
                    + "); choose a new or empty directory");
        }
    }

    /** summary.json, or null (with a note) when it is damaged: it is rewritten when the run finishes. */
    static RunSummary readSummaryOrNull(Path f, PrintStream log) {
        try {
            return RunSummary.read(f);
        } catch (UserError e) {
            log.println("note: " + e.getMessage() + "; it will be rewritten when the run finishes");
            return null;
        }
    }

    /** A checkpoint read (and checked as a file) before the data load, and the config it was made with. */
    private record Saved(SafeTensors.Contents contents, RunConfig made) {}

    private static RunSummary train(RunConfig c, Data data, Backend be, RunRecorder rec, Saved saved,
                                    PrintStream log, TrainListener listener, long wall0, java.time.Instant started) {
        Dataset ds = data.dataset();
        Random rng = new Random(c.seed());
        int nVal = data.val() == null ? 0 : data.val().n();
        // sizes checked before anything large is allocated (masks are built next)
        MemoryEstimate.Need need = MemoryEstimate.check(c, ds.features(), ds.classes(), data.train().n(), nVal, data.test().n(),
                be.deviceMemoryFree() >= 0);
        MemoryEstimate.refuseIfTooLarge(need, be.deviceMemoryFree());
        if (need.batchCapacity() < c.batch()) {
            log.println("note: --batch " + c.batch() + " is larger than the data (" + data.train().n()
                    + " training samples): every step trains on the whole training set");
        }
        Architecture arch = Architecture.build(c, ds.features(), ds.classes(), rng);
        Optimizer opt = Optimizer.from(c);
        String json = configJson(c);
        Path ckptFile = rec.checkpoint();
        Checkpoint ckpt = saved == null ? null : Checkpoint.from(saved.contents(), ckptFile, opt.slots());
        int nTrain = data.train().n();
        if (ckpt != null) {
            checkShapes(ckpt.masks, arch, ckptFile);
            checkCounters(ckpt, c, saved.made(), nTrain, ckptFile);
            if ((ckpt.encoder == null) != (arch.encoder() == null)) {
                throw new UserError(ckptFile + ": the checkpoint's encoder does not match the configured --encoder");
            }
            arch = new Architecture(arch.kind(), arch.widths(), ckpt.masks, arch.targetDensity(), arch.encoder());
        }
        // the run starts writing here (what fails before leaves no directory): so does its log
        if (log instanceof RunLog runLog) runLog.keepIn(rec.dir.resolve("log.txt"));
        rec.writeConfig(c, json, started);
        float[][][] w0 = ckpt != null ? ckpt.weights : Network.initWeights(arch, rng);
        // drawn after the layers, so a model without an encoder starts exactly as before encoders existed
        float[][] e0 = ckpt != null ? ckpt.encoder : Network.initEncoder(arch.encoder(), rng);
        long total = Trainer.totalSteps(c, nTrain);
        try (Network net = new Network(be, arch.widths(), arch.masks(), arch, opt, need.batchCapacity(), w0, e0);
             DynamicSparseTraining dst = new DynamicSparseTraining(c, net, total);
             ResidentSplit val = data.val() == null ? null : new ResidentSplit(be, data.val());
             ResidentSplit test = new ResidentSplit(be, data.test());
             StepLog steps = new StepLog(rec.dir, c.tensorboard(), ckpt == null ? 0 : ckpt.step)) {
            net.recordSteps(c.cudaGraphs() == CudaGraphs.ON);
            Trainer t = new Trainer(c, net, dst, rec, multi(multi(listener, new Progress(log, Progress.isTerminal(),
                    ckpt == null ? 0 : ckpt.step, total)), steps), json,
                    ModelMetadata.of(c, json, ImageFormat.of(ds), data.standardisation(), arch), false);
            t.sessionStartedAt(wall0);
            if (ckpt != null) {
                ckpt.restoreInto(net, dst);
                rec.restoreRows(ckpt.metricRows, ckpt.dstRows);
                t.resumeAt(ckpt.epochsDone, ckpt.step, ckpt.clock);
                log.println("resuming " + rec.dir + " after epoch " + ckpt.epochsDone + " (step " + ckpt.step + ")");
            } else {
                rec.restoreRows(List.of(), List.of());
            }
            if (arch.encoder() != null) {
                PatchEncoder pe = arch.encoder();
                log.printf("encoder: %s patches of %dx%dx%d pixels -> %d channels each, %d features, %,d params%n",
                        pe.gridString(), pe.channels(), pe.patchHeight(), pe.patchWidth(), pe.outChannels(),
                        pe.features(), pe.params());
            }
            log.printf("model %s: widths %s, active params %,d of %,d dense (density %.4f), train %d, test %d%n",
                    c.modelKind(), java.util.Arrays.toString(arch.widths()), arch.activeParams(), arch.denseParams(),
                    arch.density(), nTrain, data.test().n());
            t.run(data.train(), val, test);
            List<Mask> finalMasks = new java.util.ArrayList<>();
            for (Layer L : net.layers) finalMasks.add(L.mask);
            RunSummary s = summary(c, rec, be, finalMasks, arch, t);
            rec.writeSummary(s);
            return s;
        }
    }

    /**
     * The checkpoint's step counter must be what its epochs imply, and its epochs within the run;
     * a resumed run that disagreed would repeat or skip an epoch (and its metric row).
     */
    private static void checkCounters(Checkpoint k, RunConfig c, RunConfig made, int nTrain, Path f) {
        if (k.epochsDone > c.epochs()) {
            throw new UserError(f + ": " + k.epochsDone + " epochs done already, more than --epochs " + c.epochs());
        }
        // (a --force that changed the batch or the training set changes the count per epoch: not checkable then)
        boolean sameEpochs = made.batch() == c.batch() && made.limitTrain() == c.limitTrain() && made.valSplit() == c.valSplit()
                && made.dataset().equals(c.dataset());
        long expect = (long) k.epochsDone * Trainer.batchesPerEpoch(c, nTrain);
        if (sameEpochs && k.step != expect) {
            throw new UserError(f + ": step counter " + k.step + " disagrees with its " + k.epochsDone + " epochs of "
                    + Trainer.batchesPerEpoch(c, nTrain) + " batches (" + expect + " steps)");
        }
    }

    private static void checkShapes(List<Mask> masks, Architecture arch, Path f) {
        boolean ok = masks.size() == arch.depth();
        for (int l = 0; ok && l < masks.size(); l++) {
            ok = masks.get(l).out == arch.masks().get(l).out && masks.get(l).in == arch.masks().get(l).in;
        }
        if (!ok) throw new UserError(f + ": layer shapes do not match the configured model");
    }

    private static TrainListener multi(TrainListener a, TrainListener b) {
        return new TrainListener() {
            @Override public void onStep(long s, int e, int bi, int nb, double sps) { b.onStep(s, e, bi, nb, sps); a.onStep(s, e, bi, nb, sps); }
            @Override public void onEpoch(EpochMetrics m, int epochs) { b.onEpoch(m, epochs); a.onEpoch(m, epochs); }
            @Override public void onWindow(StepMetrics m) { b.onWindow(m); a.onWindow(m); }
        };
    }

    static RunSummary summary(RunConfig c, RunRecorder rec, Backend be, List<Mask> masks, Architecture arch,
                              Trainer t) {
        List<EpochMetrics> ep = rec.epochs();
        EpochMetrics last = ep.get(ep.size() - 1);
        boolean haveVal = !Double.isNaN(last.valAcc());
        EpochMetrics best = ep.get(0);
        for (EpochMetrics m : ep) {
            double key = haveVal ? m.valAcc() : m.testAcc(), bestKey = haveVal ? best.valAcc() : best.testAcc();
            if (key > bestKey) best = m;
        }
        double bestTest = 0;
        for (EpochMetrics m : ep) bestTest = Math.max(bestTest, m.testAcc());
        PatchEncoder enc = arch.encoder();
        long active = enc == null ? 0 : enc.params(), dense = active;
        for (Mask m : masks) { active += m.activeCount() + m.out; dense += (long) m.out * m.in + m.out; }
        RunSummary.FlopsPerSample flops = new RunSummary.FlopsPerSample(Flops.forward(masks, enc),
                Flops.forwardDense(masks, enc), Flops.train(masks, enc), Flops.trainDense(masks, enc));
        RunClock clock = t.clock();
        double sps = clock.steadySamplesPerSecond();
        if (Double.isNaN(sps)) { // no session trained past its warm-up: the epochs' own rates
            sps = 0;
            for (EpochMetrics m : ep) sps += m.samplesPerS() / ep.size();
        }
        Map<String, Double> phases = new LinkedHashMap<>();
        long steps = Math.max(1, t.stepsThisSession());
        for (Phase p : Phase.values()) {
            if (p != Phase.EVAL) phases.put(p.key(), t.timer.nanos(p) / 1e6 / steps);
        }
        return new RunSummary(RunSummary.FINISHED, c.modelKind().spelling(), c.dataset(), ep.size(), t.step(),
                last.testAcc(), last.testLoss(), bestTest, best.epoch(), haveVal ? "val_accuracy" : "test_accuracy",
                best.testAcc(), haveVal ? last.valAcc() : null, haveVal ? best.valAcc() : null, last.trainAcc(),
                active, dense, last.density(), java.util.Arrays.stream(arch.widths()).boxed().toList(), flops,
                sps, phases, be.name(), be.description(), clock.trainSeconds(), clock.wallSeconds(), Version.version());
    }
}
