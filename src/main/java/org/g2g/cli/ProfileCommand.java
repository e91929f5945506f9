package org.g2g.cli;

import org.g2g.config.RunConfig;
import org.g2g.io.AtomicFiles;
import org.g2g.profile.ProfileReport;
import org.g2g.profile.ProfileTable;
import org.g2g.profile.Profiler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "profile", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Where the time of a training step goes, sparse against dense.",
        description = {"Where the time of a training step goes: samples/s, the phase split, FLOPs, GFLOP/s against the",
                "device's measured peak, and memory, for one model or several compared in one process.",
                "Uses synthetic batches of the dataset's shape unless --real-data.",
                "Example: g2g profile --compare g2g,dense --json profile.json"})
final class ProfileCommand implements Callable<Integer>, Main.NeedsRunOptions {
    @Spec CommandSpec spec;

    @Option(names = "--warmup", paramLabel = "N", description = "untimed steps first (JIT, module loads, handles) (default: ${DEFAULT-VALUE})")
    int warmup = 10;

    @Option(names = "--steps", paramLabel = "M", description = "timed steps per model and repeat (default: ${DEFAULT-VALUE})")
    int steps = 50;

    @Option(names = "--repeats", paramLabel = "N", description = "rounds over the models, order alternating (default: ${DEFAULT-VALUE})")
    int repeats = 3;

    @Option(names = "--window", paramLabel = "N", description = "steps per throughput window (default: a tenth of --steps)")
    int window = 0;

    @Option(names = "--compare", paramLabel = "MODELS", split = ",",
            description = "models to profile one after another: g2g, er, dense (same widths), dense-matched (default: --model)")
    List<String> compare;

    @Option(names = "--real-data", description = "load the real dataset instead of synthetic batches of its shape")
    boolean realData;

    @Option(names = "--dst-updates", paramLabel = "N", description = "DST updates timed per model (default: ${DEFAULT-VALUE})")
    int dstUpdates = 3;

    @Option(names = "--calibration-size", paramLabel = "N", description = "calibration GEMM N x N (default: 1024 on the CPU, 4096 on a GPU)")
    int calibrationSize = 0;

    @Option(names = "--concurrent", paramLabel = "K",
            description = "also train 1, 2, 4, ... K runs of the first model at once (each its own backend: on a GPU its own stream, "
                    + "graphs and memory, as sweep --parallel) and report their aggregate samples/s")
    int concurrent = 0;

    @Option(names = "--json", paramLabel = "FILE", description = "write the profile as JSON (schema g2g-profile/1, docs/profile-json.md)")
    Path json;

    @Option(names = "--csv", paramLabel = "FILE", description = "write one CSV row per model")
    Path csv;

    @Option(names = "--debug", description = "print stack traces of errors")
    boolean debug;

    @Override
    public Integer call() {
        RunConfig c = RunOptions.resolve(spec.commandLine().getParseResult(), null);
        List<String> models = compare == null || compare.isEmpty() ? List.of(c.modelKind().spelling()) : compare.stream().map(String::trim).toList();
        if (c.matchParams() && models.equals(List.of("dense"))) models = List.of("dense-matched");
        Profiler.Options o = new Profiler.Options(warmup, steps, repeats, window, models, realData, dstUpdates,
                calibrationSize, 0, 0.5);
        if (concurrent < 0) throw new org.g2g.UserError("option --concurrent: must be at least 1, got " + concurrent);
        ProfileReport r = Profiler.run(c, o, System.out);
        if (concurrent > 0) r = r.withConcurrency(Profiler.concurrent(c, o, models.get(0), concurrent, System.out));
        System.out.println();
        System.out.print(ProfileTable.text(r));
        if (json != null) {
            r.write(json);
            System.out.println("saved: " + json);
        }
        if (csv != null) {
            AtomicFiles.writeString(csv, ProfileTable.csv(r));
            System.out.println("saved: " + csv);
        }
        return 0;
    }

}
