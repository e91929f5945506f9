package org.g2g.sweep;

import org.g2g.train.Progress;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Sweep progress for humans: runs done / total, each running run's epoch, and an ETA. The ETA
 * weighs runs by their estimated training FLOPs (a dense run costs more than a sparse one) and
 * measures the rate on the work this process has done, so parallel workers count naturally.
 */
final class SweepProgress {
    private final PrintStream out;
    private final int total;
    /** Runs of this shard known finished: a set, so a run counted twice (skipped, then seen again) counts once. */
    private final java.util.Set<String> done = new java.util.HashSet<>();
    private final java.util.Set<String> mine = new java.util.HashSet<>();
    /** Estimated FLOPs of each run not finished yet: this shard's, and other shards' runs once taken over. */
    private final Map<String, Double> cost = new HashMap<>();
    /** Fraction of each unfinished run already trained (epochs done / epochs). */
    private final Map<String, Double> fraction = new HashMap<>();
    private double sessionWork;
    private final long start = System.nanoTime();

    SweepProgress(PrintStream out, List<Grid.Point> points, Map<String, Double> epochFractionDone) {
        this.out = out;
        this.total = points.size();
        for (Grid.Point p : points) {
            mine.add(p.name());
            double c = Math.max(1, p.estimatedTrainFlops());
            cost.put(p.name(), c);
            Double f = epochFractionDone.get(p.name());
            if (f != null) fraction.put(p.name(), f);
        }
    }

    synchronized void started(Grid.Point p, String owner, int epochsDone) {
        say(p.name() + (epochsDone > 0 ? ": resuming after epoch " + epochsDone + "/" + p.config().epochs() : ": starting")
                + " (" + owner + ")");
        fraction.putIfAbsent(p.name(), epochsDone / (double) p.config().epochs());
        cost.putIfAbsent(p.name(), (double) Math.max(1, p.estimatedTrainFlops())); // a run of another shard
    }

    synchronized void epoch(Grid.Point p, int epoch, int epochs, double testAcc) {
        double f = epoch / (double) epochs, before = fraction.getOrDefault(p.name(), 0.0);
        sessionWork += Math.max(0, f - before) * cost.get(p.name());
        fraction.put(p.name(), f);
        say(String.format(Locale.ROOT, "%s epoch %d/%d test %.2f%%", p.name(), epoch, epochs, 100 * testAcc));
    }

    synchronized void finished(Grid.Point p, double testAcc, double seconds) {
        if (mine.contains(p.name())) done.add(p.name());
        fraction.remove(p.name());
        cost.put(p.name(), 0.0);
        say(String.format(Locale.ROOT, "%s finished: test %.2f%% (%.0f s)", p.name(), 100 * testAcc, seconds));
    }

    synchronized void skippedFinished(Grid.Point p) {
        if (mine.contains(p.name())) done.add(p.name());
        cost.put(p.name(), 0.0);
        fraction.remove(p.name());
    }

    synchronized void failed(Grid.Point p, String why) {
        cost.put(p.name(), 0.0);
        fraction.remove(p.name());
        say(p.name() + " failed: " + why);
    }

    synchronized void note(String msg) { say(msg); }

    synchronized int done() { return done.size(); }

    /** Seconds left at the rate of this session, or NaN before the first epoch. */
    synchronized double etaSeconds() {
        if (sessionWork <= 0) return Double.NaN;
        double remaining = 0;
        for (Map.Entry<String, Double> e : cost.entrySet()) {
            remaining += e.getValue() * (1 - fraction.getOrDefault(e.getKey(), 0.0));
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        return remaining * elapsed / sessionWork;
    }

    private void say(String msg) {
        double eta = etaSeconds();
        out.println("[sweep " + done.size() + "/" + total + " done" + (Double.isNaN(eta) ? "" : ", ETA " + Progress.duration(eta)) + "] " + msg);
        out.flush();
    }
}
