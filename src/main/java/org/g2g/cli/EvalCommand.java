package org.g2g.cli;

import org.g2g.UserError;
import org.g2g.backend.Backend;
import org.g2g.device.Backends;
import org.g2g.config.RunConfig;
import org.g2g.data.Split;
import org.g2g.train.MemoryEstimate;
import org.g2g.train.ResidentSplit;
import org.g2g.train.Network;
import org.g2g.train.RunRecorder;
import org.g2g.train.SavedModel;
import org.g2g.train.TrainRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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

    @Option(names = "--json", description = "print one JSON object (accuracy, loss, per-class accuracy, confusion matrix) "
            + "on stdout; progress goes to stderr")
    boolean json;

    @Option(names = "--debug", description = "print stack traces of errors")
    boolean debug;

    @Override
    public Integer call() throws Exception {
        PrintStream log = json ? System.err : System.out;
        RunConfig c = runConfig(run, device, threads, data);
        SavedModel model = SavedModel.load(run);
        Split test = testSplit(c, model, log);
        try (Backend be = Backends.open(c.deviceSpec(), c.threads(), c.sparseEngine(), c.precision(), log);
             Network net = model.network(be, c, MemoryEstimate.batchCapacity(c, test.n()));
             ResidentSplit ev = new ResidentSplit(be, test)) {
            double[] r = ev.evaluate(net);
            if (!json) {
                System.out.printf(Locale.ROOT, "test accuracy %.2f%% (%d images), loss %.4f, device %s%n", 100 * r[1],
                        ev.n, r[0], be.name());
                return 0;
            }
            float[] p = SavedModel.probabilities(net, test);
            System.out.println(RunRecorder.JSON.writeValueAsString(report(model, test, p, r, be.name())));
        }
        return 0;
    }

    /** The run's config with the execution options given here. */
    static RunConfig runConfig(Path run, String device, Integer threads, String data) {
        RunConfig c = RunRecorder.readConfig(run);
        Map<String, Object> changes = new java.util.HashMap<>();
        if (device != null) changes.put("device", device);
        if (threads != null) changes.put("threads", threads);
        if (data != null) changes.put("data", data);
        return c.with(changes);
    }

    /**
     * The run's test images, fed as the model expects: with the standardisation stored in the
     * model (a file from before it was stored: recomputed from the run's training images).
     */
    static Split testSplit(RunConfig c, SavedModel model, PrintStream log) {
        TrainRun.Data d = TrainRun.loadData(model.standardisation == null ? c : c.with(Map.of("standardize", "none")), log);
        if (model.inputs() != d.dataset().features() || model.classes() != d.dataset().classes()) {
            throw new UserError(model.file + ": model shape " + model.inputs() + " -> " + model.classes()
                    + " does not fit dataset " + c.dataset());
        }
        if (model.standardisation != null) model.standardisation.apply(d.test());
        return d.test();
    }

    /** Accuracy and loss as g2g eval prints them, per-class accuracy and the confusion matrix (rows: true class). */
    static Map<String, Object> report(SavedModel model, Split test, float[] p, double[] lossAcc, String device) {
        int k = model.classes();
        long[][] confusion = new long[k][k];
        for (int s = 0; s < test.n(); s++) confusion[test.y()[s]][SavedModel.argmax(p, s, k)]++;
        List<String> names = model.classNames();
        List<Map<String, Object>> perClass = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            long n = 0;
            for (long v : confusion[i]) n += v;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("class", i);
            m.put("name", names.get(i));
            m.put("images", n);
            m.put("accuracy", n == 0 ? null : (double) confusion[i][i] / n);
            perClass.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model_file", model.file.toString());
        out.put("images", test.n());
        out.put("accuracy", lossAcc[1]);
        out.put("loss", lossAcc[0]);
        out.put("device", device);
        out.put("per_class", perClass);
        out.put("confusion_matrix", confusion);
        out.put("confusion_matrix_axes", "rows: true class, columns: predicted class");
        return out;
    }
}
