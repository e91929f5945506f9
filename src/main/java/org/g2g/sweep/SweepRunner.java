package org.g2g.sweep;

import org.g2g.UserError;
import org.g2g.config.DeviceSpec;
import org.g2g.config.RunConfig;
import org.g2g.data.DataLocator;
import org.g2g.device.Backends;
import org.g2g.io.AtomicFiles;
import org.g2g.train.EpochMetrics;
import org.g2g.train.RunRecorder;
import org.g2g.train.RunSummary;
import org.g2g.train.TrainListener;
import org.g2g.train.TrainRun;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs the points of a sweep (or of one shard of it) into DIR/&lt;run&gt;/, each exactly like
 * {@code g2g train --out}: K workers (threads) per process, any number of processes or machines
 * per directory. A worker claims a run ({@link ClaimLock}) before touching it, skips finished
 * ones, resumes unfinished ones from their checkpoint, and after every run rebuilds
 * results.csv, summary.csv, summary.md and the plots from what is on disk. When all its
 * runs are finished or claimed by others, a worker waits for those others (taking over a
 * claim that expires), so a sweep command returns when its shard is complete. With stealing on,
 * a worker with nothing of its own shard to run takes pending runs of the other shards, the ones
 * their owners would reach last first: the claims make that safe, and a shard that finishes early
 * helps the slow ones instead of idling (only when the shards share this directory).
 */
public final class SweepRunner {
    /**
     * How this process runs its share of the sweep: {@code parallel} workers, each training one run
     * at a time; with {@code devices} given, worker w trains on devices[w mod n] (its runs' --device
     * replaced), else every run on its own --device. K workers on one GPU each get their own
     * stream, CUDA graphs and memory there, and are sized against a K-th of its memory.
     * steal: take pending runs of other shards once this one has nothing left to start.
     */
    public record Options(Shard shard, int parallel, ClaimLock.Settings claims, PrintStream console, List<DeviceSpec> devices,
                          boolean steal) {
        public Options {
            if (parallel < 1) throw new UserError("--parallel " + parallel + ": must be at least 1");
            devices = List.copyOf(devices);
            for (DeviceSpec d : devices) {
                if (d.kind() == DeviceSpec.Kind.AUTO) throw new UserError("--devices: name each device (cpu, cuda:N), not auto");
            }
        }

        public Options(Shard shard, int parallel, ClaimLock.Settings claims, PrintStream console) {
            this(shard, parallel, claims, console, List.of(), false);
        }

        public Options(Shard shard, int parallel, ClaimLock.Settings claims, PrintStream console, List<DeviceSpec> devices) {
            this(shard, parallel, claims, console, devices, false);
        }

        public Options(Shard shard, int parallel, ClaimLock.Settings claims, PrintStream console, boolean steal) {
            this(shard, parallel, claims, console, List.of(), steal);
        }

        /** The device worker w trains on, or null when each run keeps its own --device. */
        DeviceSpec deviceOf(int worker) {
            return devices.isEmpty() ? null : devices.get(worker % devices.size());
        }
    }

    /** total and finished count this shard's runs; stolen names the other shards' runs this process trained. */
    public record Result(int total, int finished, List<String> failed, List<String> stolen) {}

    private final Grid grid;
    private final Path dir;
    private final Options o;
    private final List<Grid.Point> mine;
    /** The other shards' runs, each shard's last first, interleaved across shards. */
    private final List<Grid.Point> others;
    private final List<String> stolen = Collections.synchronizedList(new ArrayList<>());
    private final Set<String> done = ConcurrentHashMap.newKeySet();
    private final Set<ClaimLock> held = ConcurrentHashMap.newKeySet();
    private final List<String> failed = Collections.synchronizedList(new ArrayList<>());
    private final long startMillis = System.currentTimeMillis();
    private SweepProgress progress;
    /** Notified whenever a worker of this process is done with a run. */
    private final Object changed = new Object();

    public SweepRunner(Grid grid, Path dir, Options o) {
        this.grid = grid;
        this.dir = dir;
        this.o = o;
        List<List<Grid.Point>> shards = o.shard().split(grid.points);
        this.mine = shards.get(o.shard().k());
        List<Grid.Point> rest = new ArrayList<>();
        for (int depth = 0; ; depth++) {
            boolean any = false;
            for (int j = 0; j < shards.size(); j++) {
                List<Grid.Point> s = shards.get(j);
                if (j == o.shard().k() || depth >= s.size()) continue;
                rest.add(s.get(s.size() - 1 - depth));
                any = true;
            }
            if (!any) break;
        }
        this.others = o.steal() ? List.copyOf(rest) : List.of();
    }

    // ---------- running ----------

    /** Checks everything that can be checked before the first run: the directory, existing runs, the data. */
    void prepare() {
        for (DeviceSpec d : o.devices()) Backends.requireExists(d, "--devices");
        RunRecorder.ensureWritable(dir);
        SweepState.underDirectoryLock(dir, () -> {
            if (Files.isRegularFile(dir.resolve(SweepState.STATE))) {
                Grid saved;
                try {
                    saved = SweepState.read(dir);
                } catch (UserError e) {
                    saved = null; // the runs' own configs are still checked below; the state is rewritten from this grid
                    o.console().println("warning: " + e.getMessage().replace(SweepState.REWRITE_HINT, "") + "; rewriting it from the given spec");
                }
                if (saved != null) SweepState.checkSameSweep(saved, grid, dir);
            }
            for (Grid.Point p : grid.points) {
                Path run = dir.resolve(p.name());
                if (!Files.isRegularFile(run.resolve("config.json"))) continue;
                RunConfig saved = RunRecorder.readConfig(run);
                List<String> diff = saved.differences(p.config());
                if (!diff.isEmpty()) {
                    throw new UserError("run " + run + " was made with other options (" + String.join(", ", diff)
                            + "); the spec or the command line changed: choose another --out or remove that run");
                }
            }
            SweepState.write(grid, dir);
            // temp files of a rebuild that was killed (nobody else writes here while we hold the lock)
            try (var ds = Files.newDirectoryStream(dir, ".*.tmp")) {
                for (Path t : ds) if (AtomicFiles.isTemp(t.getFileName().toString())) Files.deleteIfExists(t);
            } catch (IOException e) {
                // best effort
            }
            return null;
        });
        Set<List<String>> sources = new LinkedHashSet<>();
        for (Grid.Point p : mine) {
            if (!ResultsTable.finished(dir.resolve(p.name()))) sources.add(java.util.Arrays.asList(p.config().dataset(), p.config().data()));
        }
        for (List<String> s : sources) { // a missing data set fails here, once, not once per run
            DataLocator.load(s.get(0), s.get(1) == null ? null : Path.of(s.get(1)), "none", null);
        }
    }

    public Result run() {
        prepare();
        Map<String, Double> partial = new HashMap<>();
        int finishedBefore = 0;
        for (Grid.Point p : mine) {
            Path run = dir.resolve(p.name());
            if (ResultsTable.finished(run)) { finishedBefore++; done.add(p.name()); continue; }
            int e = epochsDone(run);
            if (e > 0) partial.put(p.name(), e / (double) p.config().epochs());
        }
        progress = new SweepProgress(o.console(), mine, partial);
        for (Grid.Point p : mine) if (done.contains(p.name())) progress.skippedFinished(p);
        progress.note(String.format(Locale.ROOT, "%s: %d runs%s in %s, %d finished already, %d worker%s",
                grid.spec.name(), mine.size(), o.shard().n() > 1 ? " (shard " + o.shard() + " of " + grid.points.size() + ")" : "",
                dir, finishedBefore, o.parallel(), o.parallel() == 1 ? "" : "s")
                + (o.devices().isEmpty() ? "" : " on " + o.devices().stream().map(DeviceSpec::toString).collect(java.util.stream.Collectors.joining(","))));
        SweepOutputs.refresh(grid, dir);
        Thread hook = new Thread(() -> { for (ClaimLock c : held) c.close(); }, "g2g-sweep-release-claims");
        Runtime.getRuntime().addShutdownHook(hook);
        ExecutorService pool = Executors.newFixedThreadPool(o.parallel(), r -> {
            Thread t = new Thread(r, "g2g-sweep-worker");
            t.setDaemon(true);
            return t;
        });
        List<Backends.Share> shares = shareDevices();
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < o.parallel(); w++) {
                int worker = w;
                fs.add(pool.submit(() -> worker(worker)));
            }
            for (Future<?> f : fs) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException re) throw re;
                    throw new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new UserError("sweep interrupted");
                }
            }
        } finally {
            for (Backends.Share sh : shares) sh.close();
            pool.shutdownNow();
            try { Runtime.getRuntime().removeShutdownHook(hook); } catch (IllegalStateException ignored) { /* exiting */ }
        }
        SweepOutputs.refresh(grid, dir);
        int fin = 0;
        for (Grid.Point p : mine) if (ResultsTable.finished(dir.resolve(p.name()))) fin++;
        return new Result(mine.size(), fin, List.copyOf(failed), List.copyOf(stolen));
    }

    /**
     * Announces how many workers train on each device at once, so each run on a GPU is sized
     * against its share of the memory: with --devices, the workers assigned to each; else all
     * workers on every device the runs name (a worker may take any run).
     */
    private List<Backends.Share> shareDevices() {
        Map<DeviceSpec, Integer> workers = new LinkedHashMap<>();
        if (!o.devices().isEmpty()) {
            for (int w = 0; w < o.parallel(); w++) workers.merge(o.deviceOf(w), 1, Integer::sum);
        } else {
            for (Grid.Point p : mine) workers.put(p.config().deviceSpec(), o.parallel());
            for (Grid.Point p : others) workers.put(p.config().deviceSpec(), o.parallel()); // runs it may take over
        }
        List<Backends.Share> shares = new ArrayList<>();
        workers.forEach((d, k) -> shares.add(Backends.share(d, k)));
        return shares;
    }

    private void worker(int index) {
        String owner = ClaimLock.newOwner();
        try {
            long poll = Math.min(5000, Math.max(20, o.claims().heartbeat().toMillis()));
            while (true) {
                boolean waiting = false, ran = false;
                for (Grid.Point p : mine) {
                    if (done.contains(p.name())) continue;
                    Path run = dir.resolve(p.name());
                    if (ResultsTable.finished(run)) { finish(p); continue; }
                    if (failedDuringThisSweep(run)) { done.add(p.name()); continue; }
                    ClaimLock claim = ClaimLock.tryAcquire(run, owner, o.claims());
                    if (claim == null) { waiting = true; continue; }
                    ran = true;
                    if (!runClaimed(p, run, claim, o.deviceOf(index))) waiting = true;
                }
                if (!ran) ran = stealOne(owner, o.deviceOf(index)); // nothing of ours to start: help another shard
                if (!waiting && !ran) return;
                if (!ran) {
                    // wait for a sibling worker to finish a run (notified) or another process to (polled)
                    synchronized (changed) { changed.wait(poll); }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            ClaimLock.retire(owner);
        }
    }

    /** Trains the claimed run p (unless it finished meanwhile) and releases the claim; false when the claim was lost. */
    private boolean runClaimed(Grid.Point p, Path run, ClaimLock claim, DeviceSpec device) {
        held.add(claim);
        boolean whole;
        try {
            if (ResultsTable.finished(run)) { finish(p); return true; }
            whole = runOne(p, run, claim, device);
        } finally {
            claim.close();
            held.remove(claim);
        }
        SweepOutputs.refresh(grid, dir);
        synchronized (changed) { changed.notifyAll(); }
        return whole;
    }

    /** Claims and trains one pending run of another shard; false when there is none to take. */
    private boolean stealOne(String owner, DeviceSpec device) {
        for (Grid.Point p : others) {
            if (done.contains(p.name())) continue;
            Path run = dir.resolve(p.name());
            if (ResultsTable.finished(run) || failedDuringThisSweep(run)) { done.add(p.name()); continue; }
            ClaimLock claim = ClaimLock.tryAcquire(run, owner, o.claims());
            if (claim == null) continue;
            if (!ResultsTable.finished(run)) {
                progress.note(p.name() + ": taken over from another shard (this shard has nothing left to start)");
                stolen.add(p.name());
            }
            runClaimed(p, run, claim, device);
            return true;
        }
        return false;
    }

    private void finish(Grid.Point p) {
        if (done.add(p.name())) progress.skippedFinished(p);
    }

    /** Trains one claimed run (on {@code device} when not null); false when the claim was lost to another worker midway. */
    private boolean runOne(Grid.Point p, Path run, ClaimLock claim, DeviceSpec device) {
        boolean exists = Files.isRegularFile(run.resolve("config.json"));
        RunConfig c = p.config();
        if (device != null) c = c.with(Map.of("device", device.toString()));
        if (c.threads() == 0 && o.parallel() > 1) {
            c = c.with(Map.of("threads", Math.max(1, Runtime.getRuntime().availableProcessors() / o.parallel())));
        }
        try {
            Files.deleteIfExists(run.resolve(ResultsTable.FAILED));
        } catch (IOException e) {
            throw new UserError("cannot write in " + run + ": " + AtomicFiles.reason(e));
        }
        progress.started(p, claim.owner, exists ? epochsDone(run) : 0);
        try (PrintStream log = new PrintStream(new FileOutputStream(run.resolve("log.txt").toFile(), true), true, StandardCharsets.UTF_8)) {
            log.println("== " + Instant.now() + " " + claim.owner + (exists ? " resumes " : " starts ") + p.name());
            TrainListener listener = new TrainListener() {
                @Override public void onStep(long step, int epoch, int batch, int batches, double sps) {
                    if (claim.lost()) throw new ClaimLost();
                }
                @Override public void onEpoch(EpochMetrics m, int epochs) { progress.epoch(p, m.epoch(), epochs, m.testAcc()); }
            };
            try {
                RunSummary s = TrainRun.execute(c, run, exists, false, log, listener);
                log.println("== " + Instant.now() + " finished");
                done.add(p.name());
                progress.finished(p, s.testAccuracy(), s.seconds());
                return true;
            } catch (ClaimLost e) {
                log.println("== " + Instant.now() + " claim lost to another worker; leaving the run to it");
                progress.note(p.name() + ": claim taken over by another worker; leaving it");
                return false;
            } catch (RuntimeException e) {
                String why = e instanceof UserError ? e.getMessage() : e.toString();
                log.println("== " + Instant.now() + " failed: " + why);
                if (!(e instanceof UserError)) e.printStackTrace(log);
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("error", why);
                f.put("owner", claim.owner);
                f.put("time", Instant.now().toString());
                RunRecorder.writeJson(run.resolve(ResultsTable.FAILED), f);
                done.add(p.name());
                failed.add(p.name() + ": " + why);
                progress.failed(p, why + " (log: " + run.resolve("log.txt") + ")");
                return true;
            }
        } catch (IOException e) {
            throw new UserError("cannot write " + run.resolve("log.txt") + ": " + AtomicFiles.reason(e));
        }
    }

    private static final class ClaimLost extends RuntimeException {
        ClaimLost() { super("claim lost", null, false, false); }
    }

    private boolean failedDuringThisSweep(Path run) {
        try {
            Path f = run.resolve(ResultsTable.FAILED);
            return Files.isRegularFile(f) && Files.getLastModifiedTime(f).toMillis() >= startMillis - 1000;
        } catch (IOException e) {
            return false;
        }
    }

    /** Epochs in a run's metrics.csv (written after each epoch's checkpoint). */
    static int epochsDone(Path run) {
        Path m = run.resolve("metrics.csv");
        if (!Files.isRegularFile(m)) return 0;
        try (var lines = Files.lines(m)) {
            return (int) Math.max(0, lines.filter(l -> !l.isBlank()).count() - 1);
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }
}
