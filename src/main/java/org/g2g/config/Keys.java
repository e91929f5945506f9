package org.g2g.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every run option with its default. Defaults marked (inferred) come from our reading of the
 * paper's follow-up work, not the paper itself (see README "What is inferred").
 */
public final class Keys {
    private Keys() {}

    public static final double INF = Double.MAX_VALUE;

    public static final List<Key> ALL = List.of(
        // data
        Key.choice("dataset", "fashion-mnist", "dataset to train on", "fashion-mnist", "mnist", "cifar10", "cifar100"),
        Key.of("data", String.class, null, "directory with the dataset files (default: search known places)"),
        Key.choice("standardize", "none", "feature scaling after [0,1]: none, global or per-feature mean/std of the training split",
                "none", "global", "per-feature"),
        Key.choice("augment", Augmentation.AUTO, "training augmentation: crop-flip (random 32 crop of the image "
                + "zero-padded by 4, random horizontal flip, per sample), none, or auto = crop-flip on CIFAR-10/100, "
                + "none on the MNIST family"),
        Key.of("val-split", Integer.class, 0, "hold out N training images for model selection").range(0, INF),
        Key.of("limit-train", Integer.class, 0, "use only the first N training images (0 = all), for smoke runs").range(0, INF),
        Key.of("limit-test", Integer.class, 0, "use only the first N test images (0 = all)").range(0, INF),
        // model
        Key.choice("encoder", EncoderKind.PATCH, "input front end: patch (the paper's Fig. 1: "
                + "one convolution per patch, kernel = stride = patch size, ReLU) or none (flattened pixels)"),
        Key.of("patches", String.class, "4x4", "patch grid RxC of --encoder patch (4x4: 7x7-pixel patches on 28x28)"),
        Key.of("patch-channels", Integer.class, 32, "output channels per patch of --encoder patch").range(1, 1 << 16),
        Key.choice("model", ModelKind.G2G, "g2g (group-to-group sparse), dense, or er (Erdos-Renyi sparse)"),
        Key.of("match-params", Boolean.class, false, "dense model narrowed to the G2G model's active parameter count"),
        Key.of("hidden", Integer.class, 1024, "width of each hidden layer (inferred)").range(1, 1 << 16),
        Key.of("layers", Integer.class, 3, "number of sparse hidden layers (inferred)").range(1, 64),
        Key.of("groups", Integer.class, 8, "groups per layer side, G (inferred)").range(1, 1 << 16),
        Key.of("p-intra", Double.class, 1.0, "edge probability inside a group (inferred)").range(0, 1),
        Key.of("p-inter", Double.class, 0.15, "edge probability across groups, p' (inferred)").range(0, 1),
        Key.choice("grouping", GroupingStrategy.MIXER, "unit-to-group assignment; mixer alternates index and interleaved"),
        Key.of("density", Double.class, null, "kept fraction of edges: ER density (default: the G2G density), "
                + "or for g2g the density p-inter is solved for").rangeExclusive(0, 1, true, false),
        // dynamic sparse training
        Key.choice("prune", Prune.MAGNITUDE, "prune criterion (none disables DST)"),
        Key.choice("regrow", Regrow.HEBBIAN, "regrow criterion"),
        Key.of("update-every", Integer.class, 1000, "optimizer steps between DST updates (inferred)").range(1, INF),
        Key.of("prune-fraction", Double.class, 0.025, "fraction of active edges pruned per update (inferred)")
                .rangeExclusive(0, 1, true, true),
        Key.choice("prune-schedule", PruneSchedule.CONSTANT, "prune fraction over training: constant or cosine-decayed"),
        Key.choice("hebbian", HebbianCorrelation.COSINE,
                "activation correlation for Hebbian scores (cosine, inferred; pearson = centred)"),
        Key.of("hebbian-ema", Double.class, 0.0, "EMA factor of Hebbian scores over the batches before an update (0 = last batch only)")
                .rangeExclusive(0, 1, false, true),
        // optimisation
        Key.choice("optimizer", OptimizerKind.ADAM, "optimizer"),
        Key.of("lr", Double.class, 1e-3, "learning rate").rangeExclusive(0, INF, true, false),
        Key.of("momentum", Double.class, 0.9, "SGD momentum").rangeExclusive(0, 1, false, true),
        Key.of("nesterov", Boolean.class, false, "Nesterov momentum for SGD"),
        Key.of("weight-decay", Double.class, 1e-4, "L2 weight decay added to the gradient").range(0, INF),
        Key.of("batch", Integer.class, 256, "mini-batch size").range(1, 1 << 20),
        Key.of("epochs", Integer.class, 20, "training epochs").range(1, INF),
        Key.choice("lr-schedule", LrScheduleKind.COSINE, "learning rate over training"),
        Key.of("seed", Long.class, 1L, "random seed: masks, init, data order, DST"),
        // execution
        Key.of("threads", Integer.class, 0, "CPU threads (0 = all cores)").range(0, 4096),
        Key.of("log-every", Integer.class, 20, "steps per row of metrics_steps.csv and TensorBoard point (0 = off)")
                .range(0, INF),
        Key.of("tensorboard", Boolean.class, true, "write TensorBoard event files into the run directory"),
        Key.of("device", String.class, "auto", "auto, cpu, cuda or cuda:N"),
        Key.choice("sparse-engine", "custom", "CUDA engine for inter-group edges", "custom", "cusparse"),
        Key.choice("cuda-graphs", CudaGraphs.ON, "CUDA: record each training step once as a graph and replay it "
                + "(same numbers as off, far fewer host launches); ignored on the CPU"),
        Key.choice("precision", Precision.FP32, "matrix products in fp32, or tf32 (CUDA only: cuBLAS tensor-core math "
                + "and the group-block GEMM on tensor cores with TF32-rounded operands, fp32 accumulation); tf32 is refused on the CPU")
    );

    private static final Map<String, Key> BY_NAME = new LinkedHashMap<>();
    static { for (Key k : ALL) BY_NAME.put(k.name(), k); }

    public static Key get(String name) {
        Key k = BY_NAME.get(name);
        if (k == null) throw new ConfigError("unknown option or config key '" + name + "'" + suggest(name));
        return k;
    }

    public static boolean exists(String name) { return BY_NAME.containsKey(name); }

    private static String suggest(String name) {
        String best = null;
        int bestD = 3;
        for (String k : BY_NAME.keySet()) {
            int d = distance(k, name.replace('_', '-'));
            if (d < bestD) { bestD = d; best = k; }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int c = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + c);
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }
}
