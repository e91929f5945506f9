package org.g2g.cli;

import org.g2g.UserError;
import org.g2g.config.RunConfig;
import org.g2g.train.RunLog;
import org.g2g.train.RunRecorder;
import org.g2g.train.RunSummary;
import org.g2g.train.TrainListener;
import org.g2g.train.TrainRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false, abbreviateSynopsis = true,
        description = "Train G2GNet or a baseline into a run directory.",
        footer = {"", "Writes config.json, metrics.csv, dst.csv, summary.json, model.safetensors,",
                "checkpoint.safetensors and log.txt (the console). Options may also come from",
                "--config FILE (JSON/YAML) and --set key=value."})
final class TrainCommand implements Callable<Integer>, Main.NeedsRunOptions {
    @Spec CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", description = "run directory (default: runs/<timestamp>-<model>)")
    Path out;

    @Option(names = "--resume", paramLabel = "DIR", description = "continue the run in DIR from its last checkpoint")
    Path resume;

    @Option(names = "--force", description = "with --resume: accept options that differ from the saved run")
    boolean force;

    @Option(names = "--debug", description = "print stack traces of errors")
    boolean debug;

    @Override
    public Integer call() {
        if (out != null && out.toString().isBlank()) throw new UserError("--out '': empty path; give a directory name");
        if (resume != null && resume.toString().isBlank()) throw new UserError("--resume '': empty path; give a run directory");
        RunConfig base = resume == null ? null : RunRecorder.readConfig(resume);
        RunConfig c = RunOptions.resolve(spec.commandLine().getParseResult(), base);
        if (resume != null && out != null && !out.equals(resume)) {
            throw new UserError("--out and --resume name different directories; --resume continues in place");
        }
        Path dir = resume != null ? resume : out != null ? out : defaultDir(c);
        // the console, also kept in DIR/log.txt once the run has a directory
        try (RunLog log = new RunLog(System.out)) {
            for (String line : RunOptions.describe(c)) log.println(line);
            log.println("run directory: " + dir);
            RunSummary s;
            try {
                s = TrainRun.execute(c, dir, resume != null, force, log, TrainListener.NONE);
            } catch (RuntimeException | Error e) {
                if (log.kept()) log.println("== " + java.time.Instant.now() + " ended: " + Main.oneLine(e));
                throw e;
            }
            log.printf(Locale.ROOT, "result: test accuracy %.2f%% (best %.2f%% at epoch %s), %s active params, %.0f samples/s, %.1fs%n",
                    100 * s.testAccuracy(), 100 * s.bestTestAccuracy(), s.bestEpoch(),
                    String.format(Locale.ROOT, "%,d", s.activeParams()), s.trainSamplesPerSecond(), s.seconds());
            log.println("saved: " + dir.resolve("summary.json"));
        }
        return 0;
    }

    static Path defaultDir(RunConfig c) {
        String ts = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        return Path.of("runs", ts + "-" + c.modelKind().spelling());
    }
}
