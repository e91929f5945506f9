package org.g2g.cli;

import org.g2g.backend.Backend;
import org.g2g.device.Backends;
import org.g2g.config.RunConfig;
import org.g2g.io.SafeTensors;
import org.g2g.model.Architecture;
import org.g2g.model.Mask;
import org.g2g.model.PatchEncoder;
import org.g2g.train.Checkpoint;
import org.g2g.train.ResidentSplit;
import org.g2g.train.Network;
import org.g2g.train.Optimizer;
import org.g2g.train.RunRecorder;
import org.g2g.train.TrainRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Re-evaluate a saved run's model.safetensors on the test set and print its accuracy.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "DIR", description = "run directory written by g2g train")
    Path run;

    @Option(names = "--device", paramLabel = "DEVICE", description = "auto, cpu, cuda or cuda:N (default: the run's)")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: the run's)")
    Integer threads;

    @Option(names = "--data", paramLabel = "DIR", description = "dataset directory (default: the run's)")
    String data;

    @Option(names = "--debug", description = "print stack traces of errors")
    boolean debug;

    @Override
    public Integer call() {
        RunConfig c = RunRecorder.readConfig(run);
        Map<String, Object> changes = new java.util.HashMap<>();
        if (device != null) changes.put("device", device);
        if (threads != null) changes.put("threads", threads);
        if (data != null) changes.put("data", data);
        c = c.with(changes);
        Path modelFile = run.resolve("model.safetensors");
        SafeTensors.Contents st = SafeTensors.read(modelFile);
        List<Mask> masks = Checkpoint.readMasks(st, modelFile);
        float[][][] w = Checkpoint.readWeights(st, modelFile, masks.size());
        // the model file, not the config, says whether there is an encoder
        PatchEncoder enc = Checkpoint.encoderShape(st, modelFile);
        float[][] encW = Checkpoint.readEncoder(st, modelFile);
        TrainRun.Data d = TrainRun.loadData(c, System.out);
        int[] widths = new int[masks.size() + 1];
        widths[0] = masks.get(0).in;
        for (int l = 0; l < masks.size(); l++) widths[l + 1] = masks.get(l).out;
        int inputs = enc == null ? widths[0] : enc.pixels();
        if (inputs != d.dataset().features() || widths[masks.size()] != d.dataset().classes()
                || (enc != null && enc.features() != widths[0])) {
            throw new org.g2g.UserError(modelFile + ": model shape " + inputs + " -> " + widths[masks.size()]
                    + " does not fit dataset " + c.dataset());
        }
        Architecture arch = new Architecture(c.modelKind(), widths, masks, Double.NaN, enc);
        try (Backend be = Backends.open(c.deviceSpec(), c.threads(), c.sparseEngine(), System.out);
             Network net = new Network(be, widths, masks, arch, Optimizer.from(c), c.batch(), w, encW);
             ResidentSplit test = new ResidentSplit(be, d.test())) {
            double[] r = test.evaluate(net);
            System.out.printf(Locale.ROOT, "test accuracy %.2f%% (%d images), loss %.4f, device %s%n", 100 * r[1],
                    test.n, r[0], be.name());
        }
        return 0;
    }
}
