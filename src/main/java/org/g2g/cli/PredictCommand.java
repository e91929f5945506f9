package org.g2g.cli;

import org.g2g.UserError;
import org.g2g.backend.Backend;
import org.g2g.device.Backends;
import org.g2g.config.RunConfig;
import org.g2g.data.ImageFiles;
import org.g2g.data.Split;
import org.g2g.data.Standardise;
import org.g2g.train.Network;
import org.g2g.train.SavedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Predict a label for every image of a file with a saved run's model.",
        footer = {"", "Prints CSV on stdout: index,label,name,probability (the softmax probability of the label)."})
final class PredictCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "DIR", description = "run directory written by g2g train")
    Path run;

    @Option(names = "--input", required = true, paramLabel = "FILE",
            description = "idx3-ubyte images (gzip or raw) or a CIFAR binary batch file")
    Path input;

    @Option(names = "--device", paramLabel = "DEVICE", description = "auto, cpu, cuda or cuda:N (default: the run's)")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: the run's)")
    Integer threads;

    @Option(names = "--debug", description = "print stack traces of errors")
    boolean debug;

    @Override
    public Integer call() {
        RunConfig c = EvalCommand.runConfig(run, device, threads, null);
        SavedModel model = SavedModel.load(run);
        if (model.standardisation == null && Standardise.parse(c.standardize()) != Standardise.NONE) {
            throw new UserError(model.file + ": trained with --standardize " + c.standardize()
                    + " but stores no statistics (written by an older g2g); retrain or use g2g eval");
        }
        Split images = ImageFiles.read(input, model.classes());
        if (images.features() != model.inputs()) {
            throw new UserError("--input " + input + ": images have " + images.features() + " pixels, the model takes "
                    + model.inputs());
        }
        if (model.standardisation != null) model.standardisation.apply(images);
        List<String> names = model.classNames();
        int k = model.classes();
        PrintStream out = System.out;
        try (Backend be = Backends.open(c.deviceSpec(), c.threads(), c.sparseEngine(), c.precision(), System.err);
             Network net = model.network(be, c, Math.min(c.batch(), images.n()))) {
            float[] p = SavedModel.probabilities(net, images);
            StringBuilder sb = new StringBuilder("index,label,name,probability\n");
            for (int s = 0; s < images.n(); s++) {
                int label = SavedModel.argmax(p, s, k);
                sb.append(s).append(',').append(label).append(',').append(csv(names.get(label))).append(',')
                        .append(String.format(Locale.ROOT, "%.6f", p[s * k + label])).append('\n');
            }
            out.print(sb);
            out.flush();
        }
        return 0;
    }

    private static String csv(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
