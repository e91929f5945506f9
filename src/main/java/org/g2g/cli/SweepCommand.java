package org.g2g.cli;

import org.g2g.UserError;
import org.g2g.config.DeviceSpec;
import org.g2g.sweep.ClaimLock;
import org.g2g.sweep.DryRun;
import org.g2g.sweep.Grid;
import org.g2g.sweep.Shard;
import org.g2g.sweep.SweepMerge;
import org.g2g.sweep.SweepRunner;
import org.g2g.sweep.SweepSpec;
import org.g2g.sweep.SweepState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Run a grid of training runs from a YAML spec, with tables and plots.",
        subcommands = {SweepCommand.Merge.class, SweepCommand.Plot.class},
        description = {"Run a grid of training runs from a YAML spec (base options, grid, variants),",
                "each into DIR/<run>/ as `g2g train` would: resumable, shardable (--shard), safe to",
                "share between processes and machines. Keeps DIR/results.csv, summary.csv, summary.md",
                "and plots (accuracy_vs_density, accuracy_vs_flops; PNG and SVG) up to date.",
                "Run options given here replace the spec's base values for every run."})
final class SweepCommand implements Callable<Integer>, Main.NeedsRunOptions {
    @Spec CommandSpec spec;

    @Option(names = "--spec", paramLabel = "FILE", description = "sweep spec (YAML); default: the one saved in --out")
    Path specFile;

    @Option(names = "--out", paramLabel = "DIR", description = "sweep directory (default: runs/sweep-<name>)")
    Path out;

    @Option(names = "--dry-run", description = "list the runs, their state and estimated cost; run nothing")
    boolean dryRun;

    @Option(names = "--shard", paramLabel = "k/N", description = "run only shard k of N (k from 0), e.g. a job array's index")
    String shard;

    @Option(names = "--shard-balance", paramLabel = "count|flops", defaultValue = "count",
            description = "split --shard by number of runs (default) or by estimated training FLOPs (see --dry-run)")
    String shardBalance;

    @Option(names = "--no-steal", description = "do not take pending runs of other shards when this one is done "
            + "(use it when each shard has its own --out: stolen runs would be trained twice)")
    boolean noSteal;

    @Option(names = "--parallel", paramLabel = "K",
            description = "runs trained at once in this process (default: 1, or one per --devices entry); on a GPU each on its own stream")
    Integer parallel;

    @Option(names = "--devices", paramLabel = "LIST", split = ",",
            description = "spread the --parallel runs over these devices, e.g. cuda:0,cuda:1 (worker w uses the (w mod n)-th); replaces each run's --device")
    List<String> devices;

    @Option(names = "--heartbeat", paramLabel = "SECONDS", defaultValue = "10", description = "claim heartbeat period (default: 10)")
    double heartbeat;

    @Option(names = "--stale-after", paramLabel = "SECONDS", defaultValue = "60",
            description = "a claim not refreshed for this long belongs to a dead worker (default: 60)")
    double staleAfter;

    @Option(names = "--debug", description = "print stack traces of errors")
    boolean debug;

    @Override
    public Integer call() {
        Map<String, Object> cli = RunOptions.explicit(spec.commandLine().getParseResult());
        Grid g;
        if (specFile != null) {
            g = Grid.expand(SweepSpec.read(specFile), cli);
        } else if (out != null && Files.isRegularFile(out.resolve(SweepState.STATE))) {
            Grid saved = SweepState.read(out);
            Map<String, Object> merged = new java.util.LinkedHashMap<>(saved.cli);
            merged.putAll(cli);
            g = Grid.expand(saved.spec, merged);
        } else {
            throw new UserError("sweep: give --spec FILE (or --out DIR of an existing sweep)");
        }
        Path dir = out != null ? out : Path.of("runs", "sweep-" + g.spec.name());
        org.g2g.sweep.ShardBalance balance = org.g2g.sweep.ShardBalance.parse(shardBalance);
        Shard sh = shard == null ? Shard.ALL : Shard.parse(shard, balance);
        if (dryRun) {
            DryRun.print(g, dir, sh, System.out);
            return 0;
        }
        if (!(heartbeat > 0) || !(staleAfter > 0)) throw new UserError("--heartbeat and --stale-after must be positive");
        ClaimLock.Settings claims = new ClaimLock.Settings(Duration.ofMillis((long) (heartbeat * 1000)),
                Duration.ofMillis((long) (staleAfter * 1000)));
        List<DeviceSpec> devs = new java.util.ArrayList<>();
        if (devices != null) {
            for (String d : devices) {
                try {
                    devs.add(DeviceSpec.parse(d.trim()));
                } catch (RuntimeException e) {
                    throw new UserError("--devices: '" + d + "' is not cpu or cuda:N");
                }
            }
        }
        int k = parallel != null ? parallel : Math.max(1, devs.size());
        SweepRunner.Result r = new SweepRunner(g, dir, new SweepRunner.Options(sh, k, claims, System.out, devs, !noSteal)).run();
        System.out.println("sweep " + g.spec.name() + ": " + r.finished() + " of " + r.total() + " runs finished"
                + (r.stolen().isEmpty() ? "" : " (and " + r.stolen().size() + " of other shards)") + "; results: "
                + dir.resolve("results.csv") + ", " + dir.resolve("summary.md"));
        if (!r.failed().isEmpty()) {
            System.err.println("error: " + r.failed().size() + " run" + (r.failed().size() == 1 ? "" : "s") + " failed:");
            for (String f : r.failed()) System.err.println("  " + f);
            return 1;
        }
        return 0;
    }

    @Command(name = "merge", mixinStandardHelpOptions = true,
            description = "Combine the directories of a sweep's shards into one and rebuild its tables and plots.")
    static final class Merge implements Callable<Integer> {
        @Parameters(paramLabel = "DIR", arity = "1..*", description = "sweep directories (shards) to merge")
        List<Path> dirs;

        @Option(names = "--out", paramLabel = "DIR", description = "merged sweep directory (default: the first DIR)")
        Path out;

        @Option(names = "--debug", description = "print stack traces of errors")
        boolean debug;

        @Override
        public Integer call() {
            SweepMerge.merge(dirs, out != null ? out : dirs.get(0), System.out);
            return 0;
        }
    }

    @Command(name = "plot", mixinStandardHelpOptions = true,
            description = {"Redraw a sweep's plots from DIR/results.csv and DIR/sweep.json alone,",
                    "e.g. for a copy of its results without the run directories."})
    static final class Plot implements Callable<Integer> {
        @Parameters(paramLabel = "DIR", arity = "1", description = "sweep directory (holding results.csv and sweep.json)")
        Path dir;

        @Option(names = "--debug", description = "print stack traces of errors")
        boolean debug;

        @Override
        public Integer call() {
            Grid g = SweepState.read(dir);
            List<Path> files = org.g2g.sweep.SweepOutputs.replot(g, dir);
            if (files.isEmpty()) throw new UserError("sweep plot: " + dir.resolve("results.csv") + " has no finished run to plot");
            for (Path f : files) System.out.println("wrote " + f);
            return 0;
        }
    }
}
