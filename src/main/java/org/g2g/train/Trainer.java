package org.g2g.train;

import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.backend.StepRecorder;
import org.g2g.backend.StepScalars;
import org.g2g.config.RunConfig;
import org.g2g.data.Split;
import org.g2g.dst.DstStats;
import org.g2g.dst.DynamicSparseTraining;

import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The training loop: batch -> forward -> loss -> backward -> optimizer -> DST every k steps,
 * an evaluation and a checkpoint at the end of every epoch. Device-agnostic: everything
 * numeric goes through the network's backend; only loss sums come back, at epoch ends
 * and every {@link #CHECK_EVERY} steps to catch a diverging loss early.
 */
public final class Trainer {
    static final int CHECK_EVERY = 200;

    private final RunConfig cfg;
    private final Network net;
    private final DynamicSparseTraining dst;
    private final RunRecorder rec;
    private final TrainListener listener;
    private final String configJson;
    private final Map<String, String> modelMetadata;
    public final PhaseTimer timer;
    private long step;
    private int epochsDone;
    private RunClock clock = RunClock.ZERO;
    /** The wall time of earlier sessions, and when this one began (System.nanoTime). */
    private double wallBefore;
    private long sessionStart = System.nanoTime();
    private long trainSamples;
    private long stepsThisSession;

    public Trainer(RunConfig cfg, Network net, DynamicSparseTraining dst, RunRecorder rec, TrainListener listener,
                   String configJson, Map<String, String> modelMetadata, boolean syncTimer) {
        this.cfg = cfg;
        this.net = net;
        this.dst = dst;
        this.rec = rec;
        this.listener = listener;
        this.configJson = configJson;
        this.modelMetadata = modelMetadata;
        this.timer = new PhaseTimer(net.be, syncTimer);
    }

    public void resumeAt(int epochsDone, long step, RunClock clock) {
        this.epochsDone = epochsDone;
        this.step = step;
        this.clock = clock;
        this.wallBefore = clock.wallSeconds();
    }

    /** When this process's session began (System.nanoTime), for the run's wall time. */
    public void sessionStartedAt(long nanos) { this.sessionStart = nanos; }

    public long step() { return step; }
    public double trainSeconds() { return clock.trainSeconds(); }

    /** The run's time so far, all sessions, with this session's wall time up to now. */
    public RunClock clock() { return clock.withWall(wallBefore + (System.nanoTime() - sessionStart) / 1e9); }
    public long trainSamplesThisSession() { return trainSamples; }
    public long stepsThisSession() { return stepsThisSession; }

    public static long totalSteps(RunConfig c, int nTrain) {
        return (long) batchesPerEpoch(c, nTrain) * c.epochs();
    }

    public static int batchesPerEpoch(RunConfig c, int nTrain) { return (nTrain + c.batch() - 1) / c.batch(); }

    /** The sample order of an epoch: a seeded shuffle, so a resumed run sees the same order. */
    public static int[] epochOrder(long seed, int epoch, int n) {
        int[] p = new int[n];
        for (int k = 0; k < n; k++) p[k] = k;
        Random r = new Random(DynamicSparseTraining.mix(seed, epoch, 0x5eed));
        for (int k = n - 1; k > 0; k--) {
            int j = r.nextInt(k + 1);
            int t = p[k]; p[k] = p[j]; p[j] = t;
        }
        return p;
    }

    public void run(Split train, ResidentSplit val, ResidentSplit test) {
        Backend be = net.be;
        int n = train.n();
        int batches = batchesPerEpoch(cfg, n);
        LrSchedule lrs = new LrSchedule(cfg.lrScheduleKind(), cfg.lr(), totalSteps(cfg, n));
        try (ResidentSplit data = new ResidentSplit(be, train, Augmenter.of(cfg, be, train.features(), cfg.batch()));
             IntVector order = be.ints(n)) {
            for (int epoch = epochsDone; epoch < cfg.epochs(); epoch++) {
                be.write(order, epochOrder(cfg.seed(), epoch, n));
                net.takeStats();
                long t0 = System.nanoTime();
                double lr = lrs.at(step);
                // the epoch's loss sum, correct count, samples and seconds at the end of the last --log-every window
                double lossMark = 0, correctMark = 0, secsMark = 0;
                int samplesMark = 0;
                long stepsBefore = stepsThisSession, warmEndNanos = 0;
                int warmEndSamples = 0;
                for (int bi = 0; bi < batches; bi++) {
                    int off = bi * cfg.batch();
                    int bs = Math.min(cfg.batch(), n - off);
                    lr = lrs.at(step);
                    List<DstStats> s = trainStep(net, dst, timer, data, order, off, bs, (float) lr, step + 1);
                    step++;
                    stepsThisSession++;
                    if (stepsThisSession == RunClock.WARMUP_STEPS) { // throughput is counted from here (RunClock)
                        be.sync();
                        warmEndNanos = System.nanoTime() - t0;
                        warmEndSamples = off + bs;
                    }
                    if (!s.isEmpty()) rec.addDst(s);
                    if (step % CHECK_EVERY == 0) checkFinite(be.read(net.stats)[0], epoch);
                    double secs = (System.nanoTime() - t0) / 1e9;
                    listener.onStep(step, epoch, bi + 1, batches, (off + bs) / Math.max(secs, 1e-9));
                    if (cfg.logEvery() > 0 && (step % cfg.logEvery() == 0 || bi == batches - 1)) {
                        // the epoch's running loss/correct sums, differenced: one device read per window
                        float[] sums = be.read(net.stats);
                        int samples = off + bs - samplesMark;
                        listener.onWindow(new StepMetrics(step, epoch + 1, (sums[0] - lossMark) / samples,
                                (sums[1] - correctMark) / samples, lr, samples / Math.max(secs - secsMark, 1e-9)));
                        lossMark = sums[0];
                        correctMark = sums[1];
                        samplesMark = off + bs;
                        secsMark = secs;
                    }
                }
                be.sync();
                long epochNanos = System.nanoTime() - t0;
                double secs = epochNanos / 1e9;
                clock = clock.plusEpoch(stepsBefore, batches, n, warmEndSamples, warmEndNanos, epochNanos);
                trainSamples += n;
                double[] st = net.takeStats();
                checkFinite(st[0], epoch);
                long e0 = System.nanoTime();
                timer.begin(Phase.EVAL);
                double[] va = val == null ? null : val.evaluate(net);
                double valAcc = va == null ? Double.NaN : va[1];
                double[] te = test.evaluate(net);
                timer.end();
                double evalSecs = (System.nanoTime() - e0) / 1e9;
                EpochMetrics m = new EpochMetrics(epoch + 1, st[0] / n, st[1] / n, valAcc, te[0], te[1], lr,
                        denseFraction(), n / secs, secs + evalSecs);
                String bad = va != null && !Double.isFinite(va[0]) ? "val_loss is " + va[0] : m.firstNonFinite(val != null);
                if (bad != null) { // before anything of this epoch is written: the last good checkpoint stays
                    throw new DivergedError("training diverged: " + bad + " in epoch " + (epoch + 1) + " (step " + step
                            + "); the last good checkpoint" + (epochsDone == 0 ? " (none yet)" : " (epoch " + epochsDone + ")")
                            + " is kept in " + rec.dir + " (try a lower --lr)");
                }
                rec.addEpoch(m);
                epochsDone = epoch + 1;
                // checkpoint first: it carries the metric rows, so a kill between the two writes loses nothing
                Checkpoint.save(rec.checkpoint(), net, dst, epochsDone, step, clock(), rec.metricRows(),
                        rec.dstRows(), configJson);
                rec.flushCsv();
                Checkpoint.saveModel(rec.model(), net, modelMetadata);
                listener.onEpoch(m, cfg.epochs());
            }
        }
    }

    /**
     * One training step on samples order[off .. off+bs) of data, ending with the timer stopped:
     * the code path of train, shared with the profiler so both measure the same thing.
     * step is the 1-based number of this optimizer step; returns the DST statistics when it
     * was an update step.
     */
    public static List<DstStats> trainStep(Network net, DynamicSparseTraining dst, PhaseTimer timer, ResidentSplit data,
                                           IntVector order, int off, int bs, float lr, long step) {
        Backend be = net.be;
        StepScalars s = net.optimizer.scalars(lr, step, off);
        timer.begin(Phase.DATA);
        if (data.augmenter != null) data.augmenter.prepare(be, step, bs);
        be.beginStep(s);
        boolean observe = dst.observes(step);
        StepRecorder rec = net.recorder();
        if (rec == null) {
            work(net, dst, timer, data, order, s, bs, observe);
        } else {
            // one graph: its phases cannot be told apart, and nothing inside may wait for the device
            timer.begin(Phase.GRAPH);
            PhaseTimer inside = new PhaseTimer(be, false);
            rec.step(new StepKey(bs, dst.observeState(step)), () -> work(net, dst, inside, data, order, s, bs, observe));
        }
        if (observe) dst.observed();
        List<DstStats> st = dst.update(step, bs, timer);
        timer.end();
        return st;
    }

    /** What a recorded step depends on besides memory: the batch size and the Hebbian observation it makes. */
    private record StepKey(int batch, String observe) {}

    /** The device work of a training step, queued without waiting (so it can be recorded). */
    private static void work(Network net, DynamicSparseTraining dst, PhaseTimer timer, ResidentSplit data, IntVector order,
                             StepScalars s, int bs, boolean observe) {
        timer.begin(Phase.DATA);
        if (data.augmenter == null) net.be.gather(data.x, data.y, order, s, bs, net.input(), net.labels);
        else data.augmenter.gather(net.be, data, order, s, bs, net.input(), net.labels);
        timer.begin(Phase.FORWARD);
        net.forwardLoss(bs, true, timer);  // the phase timer's LOSS begins inside when it waits for the device
        net.backward(bs, timer);
        timer.begin(Phase.OPTIMIZER);
        net.optimizerStep(s);
        if (observe) dst.observe(bs, timer);
    }

    private double denseFraction() {
        long a = 0, all = 0;
        for (Layer L : net.layers) {
            if (!L.sparse) continue;
            a += L.mask.activeCount();
            all += (long) L.out * L.in;
        }
        return all == 0 ? 1.0 : (double) a / all;
    }

    private void checkFinite(double lossSum, int epoch) {
        if (!Double.isFinite(lossSum)) {
            throw new DivergedError("training diverged: the loss became " + lossSum + " in epoch " + (epoch + 1)
                    + " (step " + step + "); the last good checkpoint is kept in " + rec.dir
                    + " (try a lower --lr)");
        }
    }
}
