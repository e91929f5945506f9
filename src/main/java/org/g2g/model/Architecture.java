package org.g2g.model;

import org.g2g.config.ConfigError;
import org.g2g.config.ModelKind;
import org.g2g.config.RunConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The shape of a model and the masks of its layers: input -> L hidden layers (ReLU) -> a dense
 * output layer. Hidden layers of g2g and er models are sparse (masked, rewired by DST);
 * dense models have dense masks everywhere and no DST. With a patch encoder (null when
 * none) the input widths[0] is the encoder's output, and the encoder stays dense.
 */
public record Architecture(ModelKind kind, int[] widths, List<Mask> masks, double targetDensity, PatchEncoder encoder) {

    public Architecture(ModelKind kind, int[] widths, List<Mask> masks, double targetDensity) {
        this(kind, widths, masks, targetDensity, null);
    }

    /** Number of weight layers (hidden layers + the output layer). */
    public int depth() { return masks.size(); }

    /** Whether layer l takes part in dynamic sparse training. */
    public boolean isSparse(int l) { return kind.sparse() && l < depth() - 1; }

    /** features: the dataset's pixels; the encoder (if any) decides the sparse network's input width. */
    public static Architecture build(RunConfig c, int features, int classes, Random rng) {
        PatchEncoder enc = PatchEncoder.of(c, features);
        if (enc != null) features = enc.features();
        requireReachable(c);
        int layers = c.layers();
        ModelKind kind = c.modelKind();
        int width = c.hidden();
        double g2gDensity = g2gDensity(c);
        if (kind == ModelKind.DENSE && c.matchParams()) width = matchedWidth(c, features, classes);
        int[] widths = new int[layers + 2];
        widths[0] = features;
        for (int l = 1; l <= layers; l++) widths[l] = width;
        widths[layers + 1] = classes;
        List<Mask> masks = new ArrayList<>();
        for (int l = 0; l <= layers; l++) {
            int in = widths[l], out = widths[l + 1];
            if (l == layers || kind == ModelKind.DENSE) {
                masks.add(Mask.dense(out, in));
            } else if (kind == ModelKind.ER) {
                double d = c.density() != null ? c.density() : g2gDensity;
                masks.add(MaskFactory.erdosRenyi(out, in, d, rng));
            } else {
                int g = c.groups();
                if (in % g != 0) {
                    throw new ConfigError("groups", g + " does not divide the width " + in + " of layer " + l
                            + (l == 0 ? " (the input features)" : ""));
                }
                masks.add(MaskFactory.g2g(out, in, g, c.pIntra(), pInter(c),
                        Grouping.forLayer(c.groupingStrategy(), l), rng));
            }
        }
        double target = kind == ModelKind.DENSE ? 1.0 : kind == ModelKind.ER && c.density() != null ? c.density() : g2gDensity;
        return new Architecture(kind, widths, masks, target, enc);
    }

    /**
     * Checks that a g2g --density is reachable with the configured groups and p_intra (p'
     * solved from it within [0, 1]). Called where a config enters (the CLI, sweep grids) and
     * again when a model is built; a ConfigError naming --density otherwise.
     */
    public static void requireReachable(RunConfig c) {
        if (c.modelKind() != ModelKind.G2G || c.density() == null) return;
        double p = MaskFactory.pInterForDensity(c.groups(), c.pIntra(), c.density());
        if (p < 0 || p > 1) {
            throw new ConfigError("density", c.density() + " is not reachable with groups " + c.groups()
                    + " and p-intra " + c.pIntra() + " (needs p-inter " + String.format("%.4f", p) + ")");
        }
    }

    /** p_inter in effect: --p-inter, or solved from --density for g2g models. */
    public static double pInter(RunConfig c) {
        if (c.modelKind() == ModelKind.G2G && c.density() != null) {
            return MaskFactory.pInterForDensity(c.groups(), c.pIntra(), c.density());
        }
        return c.pInter();
    }

    public static double g2gDensity(RunConfig c) {
        if (c.modelKind() == ModelKind.G2G && c.density() != null) return c.density();
        return MaskFactory.g2gDensity(c.groups(), c.pIntra(), c.pInter());
    }

    /**
     * Width w of a dense model with as many parameters as the G2G model's expected active
     * ones (sparse hidden layers at the G2G density, dense output layer, all biases; an
     * encoder is the same in both and left out, features being its output width):
     * solves (L-1) w^2 + (features + L + classes) w + classes = P for w.
     */
    public static int matchedWidth(RunConfig c, int features, int classes) {
        int L = c.layers(), h = c.hidden();
        double d = g2gDensity(c);
        double sparseEdges = d * ((double) features * h + (L - 1) * (double) h * h);
        double p = sparseEdges + L * (double) h + (double) h * classes + classes;
        double a = L - 1, b = features + L + classes, cc = classes - p;
        double w = a == 0 ? -cc / b : (-b + Math.sqrt(b * b - 4 * a * cc)) / (2 * a);
        return Math.max(1, (int) Math.round(w));
    }

    /** Active parameters: active edges + biases of every layer, and the encoder's. */
    public long activeParams() {
        long p = encoder == null ? 0 : encoder.params();
        for (Mask m : masks) p += m.activeCount() + m.out;
        return p;
    }

    /** Parameters of the same architecture with every layer dense (and the encoder). */
    public long denseParams() {
        long p = encoder == null ? 0 : encoder.params();
        for (Mask m : masks) p += (long) m.out * m.in + m.out;
        return p;
    }

    /** Kept fraction of edges over the sparse hidden layers (1 for dense models). */
    public double density() {
        long active = 0, all = 0;
        for (int l = 0; l < depth(); l++) {
            if (!isSparse(l)) continue;
            active += masks.get(l).activeCount();
            all += (long) masks.get(l).out * masks.get(l).in;
        }
        return all == 0 ? 1.0 : (double) active / all;
    }
}
