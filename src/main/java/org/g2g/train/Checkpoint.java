package org.g2g.train;

import org.g2g.UserError;
import org.g2g.backend.Backend;
import org.g2g.dst.DynamicSparseTraining;
import org.g2g.dst.HebbianScores;
import org.g2g.io.SafeTensors;
import org.g2g.model.Mask;
import org.g2g.model.PatchEncoder;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to continue a run exactly: weights, masks (with group labels), optimizer
 * state, Hebbian EMA state, the step and epoch counters, and the metric rows so far. Data
 * order and DST draws are derived from (seed, epoch / step), so no RNG stream is stored.
 * Saved as safetensors, like the model, so one reader serves both.
 */
public final class Checkpoint {
    public static final String FORMAT = "g2g-checkpoint-1";

    public final int epochsDone;
    public final long step;
    public final double trainSeconds;
    public final List<String> metricRows;
    public final List<String> dstRows;
    public final List<Mask> masks;
    public final float[][][] weights;      // [l] -> {W dense, bias}
    public final float[][][] wState;       // [l][slot] dense
    public final float[][][] bState;       // [l][slot]
    public final float[][] hebbian;        // [l] scores or null
    public final boolean[] hebbianFresh;
    /** The patch encoder's {W, bias}, and its optimizer state [slot] {W, bias}; null without one. */
    public final float[][] encoder;
    public final float[][][] encoderState;

    private Checkpoint(int epochsDone, long step, double trainSeconds, List<String> metricRows, List<String> dstRows,
                       List<Mask> masks, float[][][] weights, float[][][] wState, float[][][] bState,
                       float[][] hebbian, boolean[] hebbianFresh, float[][] encoder, float[][][] encoderState) {
        this.epochsDone = epochsDone;
        this.step = step;
        this.trainSeconds = trainSeconds;
        this.metricRows = metricRows;
        this.dstRows = dstRows;
        this.masks = masks;
        this.weights = weights;
        this.wState = wState;
        this.bState = bState;
        this.hebbian = hebbian;
        this.hebbianFresh = hebbianFresh;
        this.encoder = encoder;
        this.encoderState = encoderState;
    }

    public static void save(Path file, Network net, DynamicSparseTraining dst, int epochsDone, long step,
                            double trainSeconds, List<String> metricRows, List<String> dstRows, String configJson) {
        Backend be = net.be;
        SafeTensors.Contents c = new SafeTensors.Contents();
        c.metadata.put("format", FORMAT);
        c.metadata.put("epochs_done", Integer.toString(epochsDone));
        c.metadata.put("step", Long.toString(step));
        c.metadata.put("train_seconds", Double.toString(trainSeconds));
        c.metadata.put("metrics", String.join("\n", metricRows));
        c.metadata.put("dst", String.join("\n", dstRows));
        c.metadata.put("depth", Integer.toString(net.depth()));
        c.metadata.put("config", configJson);
        for (int l = 0; l < net.depth(); l++) {
            Layer L = net.layers[l];
            putLayer(c, "layers." + l, L.mask, L.denseWeights(be), be.read(L.b));
            float[][] ws = L.denseState(be);
            for (int s = 0; s < ws.length; s++) {
                c.f32("optim." + l + ".weight." + s, ws[s], L.out, L.in);
                c.f32("optim." + l + ".bias." + s, be.read(L.bState[s]), L.out);
            }
            HebbianScores h = dst == null ? null : dst.hebbian(l);
            if (h != null) {
                c.f32("hebbian." + l, h.state(), L.out, L.in);
                c.metadata.put("hebbian." + l + ".fresh", Boolean.toString(h.fresh()));
            }
        }
        if (net.encoder != null) {
            putEncoder(c, net);
            Layer E = net.encoder.layer;
            float[][] es = E.denseState(be);
            for (int s = 0; s < es.length; s++) {
                c.f32("optim.encoder.weight." + s, es[s], E.out, E.in);
                c.f32("optim.encoder.bias." + s, be.read(E.bState[s]), E.out);
            }
        }
        SafeTensors.write(file, c);
    }

    /** The deployable model: weights, biases and uint8 masks of every layer, and {@link ModelMetadata}. */
    public static void saveModel(Path file, Network net, Map<String, String> metadata) {
        SafeTensors.Contents c = new SafeTensors.Contents();
        c.metadata.putAll(metadata);
        for (int l = 0; l < net.depth(); l++) {
            Layer L = net.layers[l];
            putLayer(c, "layers." + l, L.mask, L.denseWeights(net.be), net.be.read(L.b));
        }
        if (net.encoder != null) putEncoder(c, net);
        SafeTensors.write(file, c);
    }

    /**
     * encoder.weight as the convolution kernel (out x in_channels x ph x pw), encoder.bias,
     * and what a reader needs to apply it without g2g.
     */
    private static void putEncoder(SafeTensors.Contents c, Network net) {
        PatchEncoder pe = net.encoder.spec;
        Layer E = net.encoder.layer;
        c.f32("encoder.weight", E.denseWeights(net.be), pe.outChannels(), pe.channels(), pe.patchHeight(), pe.patchWidth());
        c.f32("encoder.bias", net.be.read(E.b), pe.outChannels());
        c.metadata.put("encoder", "patch");
        c.metadata.put("encoder.image_shape", pe.channels() + "x" + pe.height() + "x" + pe.width());
        c.metadata.put("encoder.patches", pe.gridString());
        c.metadata.put("encoder.patch_channels", Integer.toString(pe.outChannels()));
        c.metadata.put("encoder.activation", "relu");
        c.metadata.put("encoder.layout", "image rows are channel-major (c, y, x) pixels; the convolution has "
                + "kernel = stride = patch size; the features entering layers.0 are ordered patch-major "
                + "(row-major over the grid), channel within patch: feature p * patch_channels + n");
    }

    /** The encoder of a model or checkpoint file ({W, bias}), or null when it has none. */
    public static float[][] readEncoder(SafeTensors.Contents c, Path file) {
        if (!c.tensors.containsKey("encoder.weight")) return null;
        return new float[][]{c.get("encoder.weight", file).floats(), c.get("encoder.bias", file).floats()};
    }

    /** The encoder's shape from a file's encoder.weight (out x channels x ph x pw) and its grid, or null. */
    public static PatchEncoder encoderShape(SafeTensors.Contents c, Path file) {
        if (!c.tensors.containsKey("encoder.weight")) return null;
        long[] s = c.get("encoder.weight", file).shape();
        int[] grid = PatchEncoder.grid(meta(c, "encoder.patches", file));
        if (s.length != 4) throw new UserError(file + ": encoder.weight must have 4 dimensions");
        return new PatchEncoder((int) s[1], grid[0] * (int) s[2], grid[1] * (int) s[3], grid[0], grid[1], (int) s[0]);
    }

    private static void putLayer(SafeTensors.Contents c, String p, Mask m, float[] w, float[] b) {
        c.f32(p + ".weight", w, m.out, m.in);
        c.f32(p + ".bias", b, m.out);
        c.u8(p + ".mask", m.toBytes(), m.out, m.in);
        if (m.groupOut != null) c.i32(p + ".group_out", m.groupOut, m.out);
        if (m.groupIn != null) c.i32(p + ".group_in", m.groupIn, m.in);
    }

    /** Masks and {W, bias} per layer from a model or checkpoint file. */
    public static List<Mask> readMasks(SafeTensors.Contents c, Path file) {
        int depth = Integer.parseInt(meta(c, "depth", file));
        List<Mask> masks = new ArrayList<>();
        for (int l = 0; l < depth; l++) {
            String p = "layers." + l;
            SafeTensors.Entry me = c.get(p + ".mask", file);
            int out = (int) me.shape()[0], in = (int) me.shape()[1];
            byte[] mb = me.bytesU8();
            boolean[] a = new boolean[mb.length];
            for (int k = 0; k < a.length; k++) a[k] = mb[k] != 0;
            int[] go = c.tensors.containsKey(p + ".group_out") ? c.get(p + ".group_out", file).ints() : null;
            int[] gi = c.tensors.containsKey(p + ".group_in") ? c.get(p + ".group_in", file).ints() : null;
            masks.add(new Mask(out, in, a, go, gi));
        }
        return masks;
    }

    public static float[][][] readWeights(SafeTensors.Contents c, Path file, int depth) {
        float[][][] w = new float[depth][][];
        for (int l = 0; l < depth; l++) {
            w[l] = new float[][]{c.get("layers." + l + ".weight", file).floats(), c.get("layers." + l + ".bias", file).floats()};
        }
        return w;
    }

    static String meta(SafeTensors.Contents c, String key, Path file) {
        String v = c.metadata.get(key);
        if (v == null) throw new UserError(file + ": not a g2g file (metadata '" + key + "' missing)");
        return v;
    }

    public static Checkpoint load(Path file, int slots) {
        SafeTensors.Contents c = SafeTensors.read(file);
        if (!FORMAT.equals(c.metadata.get("format"))) throw new UserError(file + ": not a g2g checkpoint");
        List<Mask> masks = readMasks(c, file);
        int depth = masks.size();
        float[][][] w = readWeights(c, file, depth);
        float[][][] ws = new float[depth][slots][];
        float[][][] bs = new float[depth][slots][];
        float[][] heb = new float[depth][];
        boolean[] fresh = new boolean[depth];
        for (int l = 0; l < depth; l++) {
            for (int s = 0; s < slots; s++) {
                ws[l][s] = c.get("optim." + l + ".weight." + s, file).floats();
                bs[l][s] = c.get("optim." + l + ".bias." + s, file).floats();
            }
            if (c.tensors.containsKey("hebbian." + l)) {
                heb[l] = c.get("hebbian." + l, file).floats();
                fresh[l] = Boolean.parseBoolean(c.metadata.get("hebbian." + l + ".fresh"));
            }
        }
        float[][] enc = readEncoder(c, file);
        float[][][] encState = null;
        if (enc != null) {
            encState = new float[slots][][];
            for (int s = 0; s < slots; s++) {
                encState[s] = new float[][]{c.get("optim.encoder.weight." + s, file).floats(),
                        c.get("optim.encoder.bias." + s, file).floats()};
            }
        }
        return new Checkpoint(Integer.parseInt(meta(c, "epochs_done", file)), Long.parseLong(meta(c, "step", file)),
                Double.parseDouble(meta(c, "train_seconds", file)), lines(meta(c, "metrics", file)),
                lines(meta(c, "dst", file)), masks, w, ws, bs, heb, fresh, enc, encState);
    }

    private static List<String> lines(String s) {
        return s.isEmpty() ? List.of() : Arrays.asList(s.split("\n"));
    }

    /** Puts optimizer and Hebbian state into a network built from this checkpoint's weights. */
    public void restoreInto(Network net, DynamicSparseTraining dst) {
        for (int l = 0; l < net.depth(); l++) {
            Layer L = net.layers[l];
            L.repack(net.be, L.mask, weights[l][0], wState[l]);
            for (int s = 0; s < bState[l].length; s++) net.be.write(L.bState[s], bState[l][s]);
            if (dst != null && dst.hebbian(l) != null && hebbian[l] != null) dst.hebbian(l).restore(hebbian[l], hebbianFresh[l]);
        }
        if (net.encoder != null && encoderState != null) {
            Layer E = net.encoder.layer;
            float[][] ws = new float[encoderState.length][];
            for (int s = 0; s < ws.length; s++) ws[s] = encoderState[s][0];
            E.repack(net.be, E.mask, encoder[0], ws);
            for (int s = 0; s < encoderState.length; s++) net.be.write(E.bState[s], encoderState[s][1]);
        }
    }
}
