package org.g2g.profile;

import org.g2g.UserError;
import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.config.CudaGraphs;
import org.g2g.config.RunConfig;
import org.g2g.device.Backends;
import org.g2g.dst.DstSettings;
import org.g2g.dst.DynamicSparseTraining;
import org.g2g.model.Architecture;
import org.g2g.train.Network;
import org.g2g.train.Optimizer;
import org.g2g.train.PhaseTimer;
import org.g2g.train.ResidentSplit;
import org.g2g.train.Trainer;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * `g2g profile --concurrent K`: the aggregate training throughput of k runs at once in this
 * process, for k = 1, 2, 4, ... up to K, as `g2g sweep --parallel k` trains them. Each run has
 * what a sweep's run has: its own backend (on a GPU its own stream, CUDA graphs and memory, sized
 * against a k-th of the device), its own model and its own copy of the data, and trains with
 * train's own step, free-running (the host queues steps without waiting; the device is waited for
 * once at the end). All k runs warm up (module loads, the step's graph recorded), meet at a
 * barrier, then each trains the same number of steps; aggregate samples/s is all their samples
 * over the time from the barrier until the last one's device work is done. DST updates are off
 * (as in the timed steps of the profile): they are a host round trip every update-every steps.
 */
final class ConcurrentRuns {
    private ConcurrentRuns() {}

    /** k = 1, 2, 4, ... below K, then K. */
    static List<Integer> levels(int k) {
        if (k < 1) throw new UserError("option --concurrent: must be at least 1, got " + k);
        List<Integer> l = new ArrayList<>();
        for (int v = 1; v < k; v *= 2) l.add(v);
        l.add(k);
        return l;
    }

    static ProfileReport.Concurrency measure(RunConfig c, String model, int maxRuns, int warmup, int steps, int features, int classes,
                                             PrintStream log) {
        List<ProfileReport.ConcurrentLevel> rows = new ArrayList<>();
        String device = null, description = null;
        double one = Double.NaN;
        for (int k : levels(maxRuns)) {
            Level r = level(c, k, Math.max(3, warmup), steps, features, classes);
            device = r.device;
            description = r.description;
            if (k == 1) one = r.aggregate;
            ProfileReport.ConcurrentLevel row = new ProfileReport.ConcurrentLevel(k, r.aggregate, r.perRunMean, r.aggregate / one);
            rows.add(row);
            log.printf(Locale.ROOT, "concurrent %s runs: %d at once: %,.0f samples/s together (%,.0f per run), %.2fx one run%n",
                    model, k, row.samplesPerSecond(), row.perRunSamplesPerSecond(), row.speedupOverOne());
        }
        boolean emulated = description != null && description.contains("CPU emulation");
        return new ProfileReport.Concurrency(model, device, emulated, c.batch(), steps, rows);
    }

    private record Level(double aggregate, double perRunMean, String device, String description) {}

    private record RunTimes(long start, long end, String device, String description) {}

    private static Level level(RunConfig c, int k, int warmup, int steps, int features, int classes) {
        RunConfig rc = c.threads() > 0 && k > 1 ? c.with(java.util.Map.of("threads", Math.max(1, c.threads() / k))) : c;
        CyclicBarrier ready = new CyclicBarrier(k);
        ExecutorService pool = Executors.newFixedThreadPool(k, r -> {
            Thread t = new Thread(r, "g2g-profile-concurrent");
            t.setDaemon(true);
            return t;
        });
        List<RunTimes> times = new ArrayList<>();
        try (Backends.Share share = Backends.share(rc.deviceSpec(), k)) {
            List<Future<RunTimes>> fs = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                long seed = rc.seed() + i;
                fs.add(pool.submit(() -> oneRun(rc, seed, warmup, steps, features, classes, ready)));
            }
            for (Future<RunTimes> f : fs) times.add(f.get());
        } catch (ExecutionException e) {
            ready.reset();
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("profile interrupted");
        } finally {
            pool.shutdownNow();
        }
        long start = Long.MAX_VALUE, end = Long.MIN_VALUE;
        double perRun = 0;
        for (RunTimes t : times) {
            start = Math.min(start, t.start());
            end = Math.max(end, t.end());
            perRun += (double) steps * c.batch() / ((t.end() - t.start()) / 1e9) / k;
        }
        double aggregate = (double) k * steps * c.batch() / ((end - start) / 1e9);
        return new Level(aggregate, perRun, times.get(0).device(), times.get(0).description());
    }

    private static RunTimes oneRun(RunConfig c, long seed, int warmup, int steps, int features, int classes, CyclicBarrier ready)
            throws Exception {
        try (Backend be = Backends.open(c.deviceSpec(), c.threads(), c.sparseEngine(), c.precision(), null)) {
            var data = ProfileSetup.synthetic(c.batch(), features, classes, seed);
            Architecture arch = Architecture.build(c, features, classes, new Random(seed));
            try (ResidentSplit resident = new ResidentSplit(be, data); IntVector order = be.ints(data.n());
                 Network net = new Network(be, arch, Optimizer.from(c), c.batch(), new Random(seed + 1));
                 DynamicSparseTraining noDst = new DynamicSparseTraining(DstSettings.of(c).off(), net, Long.MAX_VALUE / 4)) {
                be.write(order, Trainer.epochOrder(seed, 0, data.n()));
                int batches = data.n() / c.batch();
                float lr = (float) c.lr();
                PhaseTimer free = new PhaseTimer(be, false);
                net.recordSteps(c.cudaGraphs() == CudaGraphs.ON);
                long t = 0;
                for (int s = 0; s < warmup; s++, t++) {
                    Trainer.trainStep(net, noDst, free, resident, order, (int) (t % batches) * c.batch(), c.batch(), lr, t + 1);
                }
                be.sync();
                ready.await();
                long t0 = System.nanoTime();
                for (int s = 0; s < steps; s++, t++) {
                    Trainer.trainStep(net, noDst, free, resident, order, (int) (t % batches) * c.batch(), c.batch(), lr, t + 1);
                }
                be.sync();
                long t1 = System.nanoTime();
                net.recordSteps(false);
                return new RunTimes(t0, t1, be.name(), be.description());
            }
        }
    }
}
