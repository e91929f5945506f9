package org.g2g.sweep;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** `g2g sweep --dry-run`: the runs of a shard, their state and estimated cost; runs nothing. */
public final class DryRun {
    private DryRun() {}

    /** Lists the runs of the shard with their state and estimated training cost; runs nothing. */
    public static void print(Grid g, Path dir, Shard shard, PrintStream out) {
        List<Grid.Point> mine = shard.select(g.points);
        out.printf(Locale.ROOT, "sweep %s: %d runs%s, output %s%n", g.spec.name(), mine.size(),
                shard.n() > 1 ? " in shard " + shard + " (of " + g.points.size() + ")" : "", dir);
        int w = 10;
        for (Grid.Point p : mine) w = Math.max(w, p.name().length());
        out.printf(Locale.ROOT, "%4s  %-" + w + "s  %-12s  %14s%n", "#", "run", "state", "train TFLOPs");
        double total = 0, left = 0;
        for (Grid.Point p : mine) {
            Path run = dir.resolve(p.name());
            String state;
            double f = p.estimatedTrainFlops() / 1e12;
            if (ResultsTable.finished(run)) state = "finished";
            else {
                int e = SweepRunner.epochsDone(run);
                ClaimLock.Holder h = ClaimLock.read(run.resolve(ClaimLock.FILE));
                state = h != null ? "running" : Files.isRegularFile(run.resolve(ResultsTable.FAILED)) ? "failed"
                        : e > 0 ? "epoch " + e + "/" + p.config().epochs() : "pending";
                left += f * (1 - e / (double) p.config().epochs());
            }
            total += f;
            out.printf(Locale.ROOT, "%4d  %-" + w + "s  %-12s  %14.3f%n", p.index(), p.name(), state, f);
        }
        out.printf(Locale.ROOT, "estimated training cost: %.3f TFLOPs in all, %.3f TFLOPs left "
                + "(train FLOPs per sample at the initial masks x samples x epochs; evaluation not counted)%n", total, left);
        if (shard.n() > 1) { // what each shard would get, so count and flops balancing can be compared
            StringBuilder sb = new StringBuilder();
            for (List<Grid.Point> s : shard.split(g.points)) {
                double f = 0;
                for (Grid.Point p : s) f += p.estimatedTrainFlops() / 1e12;
                sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", f)).append(" (").append(s.size()).append(")");
            }
            out.printf(Locale.ROOT, "TFLOPs (runs) of shards 0..%d split by %s: %s%n", shard.n() - 1,
                    shard.balance().spelling(), sb);
        }
    }
}
