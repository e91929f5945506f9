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
    /** The run's time up to this checkpoint (older checkpoints: training time only, no wall or steady figures). */
    public final RunClock clock;
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

    private Checkpoint(int epochsDone, long step, RunClock clock, List<String> metricRows, List<String> dstRows,
                       List<Mask> masks, float[][][] weights, float[][][] wState, float[][][] bState,
                       float[][] hebbian, boolean[] hebbianFresh, float[][] encoder, float[][][] encoderState) {
        this.epochsDone = epochsDone;
        this.step = step;
        this.trainSeconds = clock.trainSeconds();
        this.clock = clock;
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
                            RunClock clock, List<String> metricRows, List<String> dstRows, String configJson) {
        Backend be = net.be;
        SafeTensors.Contents c = new SafeTensors.Contents();
        c.metadata.put("format", FORMAT);
        c.metadata.put("epochs_done", Integer.toString(epochsDone));
        c.metadata.put("step", Long.toString(step));
        c.metadata.put("train_seconds", Double.toString(clock.trainSeconds()));
        c.metadata.put("wall_seconds", Double.toString(clock.wallSeconds()));
        c.metadata.put("steady_seconds", Double.toString(clock.steadySeconds()));
        c.metadata.put("steady_samples", Long.toString(clock.steadySamples()));
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

    /** The encoder of a model or checkpoint file ({W, bias}, finite, shaped as its metadata says), or null. */
    public static float[][] readEncoder(SafeTensors.Contents c, Path file) {
        PatchEncoder pe = encoderShape(c, file);
        if (pe == null) return null;
        long out = pe.outChannels(), ph = pe.height() / pe.rows(), pw = pe.width() / pe.cols();
        return new float[][]{c.finite("encoder.weight", file, out, pe.channels(), ph, pw), c.finite("encoder.bias", file, out)};
    }

    /** The encoder's shape from a file's encoder.weight (out x channels x ph x pw) and its grid, or null. */
    public static PatchEncoder encoderShape(SafeTensors.Contents c, Path file) {
        if (!c.tensors.containsKey("encoder.weight")) return null;
        long[] s = c.get("encoder.weight", file).shape();
        if (s.length != 4) throw new UserError(file + ": encoder.weight must have 4 dimensions");
        for (long d : s) if (d < 1 || d > 1 << 16) throw new UserError(file + ": encoder.weight has shape " + Arrays.toString(s));
        String g = meta(c, "encoder.patches", file);
        try {
            int[] grid = PatchEncoder.grid(g);
            if (grid[0] < 1 || grid[1] < 1 || grid[0] > 1 << 12 || grid[1] > 1 << 12) throw new NumberFormatException();
            return new PatchEncoder((int) s[1], grid[0] * (int) s[2], grid[1] * (int) s[3], grid[0], grid[1], (int) s[0]);
        } catch (RuntimeException e) {
            throw new UserError(file + ": metadata 'encoder.patches' is '" + abbreviate(g) + "', not a grid RxC");
        }
    }

    private static void putLayer(SafeTensors.Contents c, String p, Mask m, float[] w, float[] b) {
        c.f32(p + ".weight", w, m.out, m.in);
        c.f32(p + ".bias", b, m.out);
        c.u8(p + ".mask", m.toBytes(), m.out, m.in);
        if (m.groupOut != null) c.i32(p + ".group_out", m.groupOut, m.out);
        if (m.groupIn != null) c.i32(p + ".group_in", m.groupIn, m.in);
    }

    /** Most layers a file may claim: the configurable depth (64 hidden layers) plus the output layer. */
    static final int MAX_DEPTH = 65;

    /**
     * Masks per layer from a model or checkpoint file, every tensor checked against the others:
     * 2-D U8 masks of 0/1, consecutive layers chained (in of l = out of l - 1), group labels
     * I32 of the right length and non-negative.
     */
    public static List<Mask> readMasks(SafeTensors.Contents c, Path file) {
        int depth = metaInt(c, "depth", file, 1, MAX_DEPTH);
        List<Mask> masks = new ArrayList<>();
        for (int l = 0; l < depth; l++) {
            String p = "layers." + l;
            SafeTensors.Entry me = c.get(p + ".mask", file);
            if (!me.dtype().equals("U8") || me.shape().length != 2 || me.shape()[0] < 1 || me.shape()[1] < 1) {
                throw new UserError(file + ": tensor '" + p + ".mask' must be a U8 matrix (out x in), is " + me.dtype() + " "
                        + Arrays.toString(me.shape()));
            }
            int out = Math.toIntExact(me.shape()[0]), in = Math.toIntExact(me.shape()[1]); // the reader capped the element count
            if (l > 0 && in != masks.get(l - 1).out) {
                throw new UserError(file + ": layer " + l + " takes " + in + " inputs but layer " + (l - 1) + " gives "
                        + masks.get(l - 1).out);
            }
            byte[] mb = me.bytesU8();
            boolean[] a = new boolean[mb.length];
            for (int k = 0; k < a.length; k++) {
                if (mb[k] != 0 && mb[k] != 1) throw new UserError(file + ": tensor '" + p + ".mask' holds " + (mb[k] & 0xff) + " (not 0 or 1)");
                a[k] = mb[k] != 0;
            }
            masks.add(new Mask(out, in, a, groups(c, p + ".group_out", file, out), groups(c, p + ".group_in", file, in)));
        }
        if (c.tensors.containsKey("layers." + depth + ".mask")) {
            throw new UserError(file + ": metadata depth " + depth + " but the file has a layer " + depth);
        }
        return masks;
    }

    private static int[] groups(SafeTensors.Contents c, String name, Path file, int n) {
        if (!c.tensors.containsKey(name)) return null;
        int[] g = c.expect(name, file, "I32", n).ints();
        for (int v : g) if (v < 0 || v >= n) throw new UserError(file + ": tensor '" + name + "' holds group " + v + " (not in 0.." + (n - 1) + ")");
        return g;
    }

    /** {W (out x in), bias (out)} per layer, F32, finite, shaped as the masks say. */
    public static float[][][] readWeights(SafeTensors.Contents c, Path file, List<Mask> masks) {
        float[][][] w = new float[masks.size()][][];
        for (int l = 0; l < masks.size(); l++) {
            Mask m = masks.get(l);
            w[l] = new float[][]{c.finite("layers." + l + ".weight", file, m.out, m.in), c.finite("layers." + l + ".bias", file, m.out)};
        }
        return w;
    }

    static String meta(SafeTensors.Contents c, String key, Path file) {
        String v = c.metadata.get(key);
        if (v == null) throw new UserError(file + ": not a g2g file (metadata '" + key + "' missing)");
        return v;
    }

    /** An integer metadata field within [min, max]. */
    static long metaLong(SafeTensors.Contents c, String key, Path file, long min, long max) {
        String v = meta(c, key, file);
        try {
            long x = Long.parseLong(v.trim());
            if (x < min || x > max) throw new NumberFormatException();
            return x;
        } catch (NumberFormatException e) {
            throw new UserError(file + ": metadata '" + key + "' is '" + abbreviate(v) + "', not an integer in [" + min + ", " + max + "]");
        }
    }

    /** A time in seconds (finite, not negative) that older checkpoints lack: absent gives fallback. */
    static double optionalTime(SafeTensors.Contents c, String key, Path file, double fallback) {
        String v = c.metadata.get(key);
        if (v == null) return fallback;
        double x;
        try {
            x = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            x = Double.NaN;
        }
        if (!(x >= 0) || Double.isInfinite(x)) throw new UserError(file + ": metadata '" + key + "' is '" + abbreviate(v) + "', not a time");
        return x;
    }

    static int metaInt(SafeTensors.Contents c, String key, Path file, int min, int max) {
        return (int) metaLong(c, key, file, min, max);
    }

    static String abbreviate(String v) { return v.length() <= 40 ? v : v.substring(0, 40) + "..."; }

    /**
     * A checkpoint, every tensor and metadata field checked against the masks and each other:
     * optimizer state shaped like the weights and finite, counters in range, one metric row
     * per epoch done (numbered 1..epochs_done), DST rows no later than the step counter.
     */
    public static Checkpoint load(Path file, int slots) {
        return from(SafeTensors.read(file), file, slots);
    }

    public static Checkpoint from(SafeTensors.Contents c, Path file, int slots) {
        if (!FORMAT.equals(c.metadata.get("format"))) throw new UserError(file + ": not a g2g checkpoint");
        List<Mask> masks = readMasks(c, file);
        int depth = masks.size();
        float[][][] w = readWeights(c, file, masks);
        float[][][] ws = new float[depth][slots][];
        float[][][] bs = new float[depth][slots][];
        float[][] heb = new float[depth][];
        boolean[] fresh = new boolean[depth];
        for (int l = 0; l < depth; l++) {
            Mask m = masks.get(l);
            for (int s = 0; s < slots; s++) {
                ws[l][s] = c.finite("optim." + l + ".weight." + s, file, m.out, m.in);
                bs[l][s] = c.finite("optim." + l + ".bias." + s, file, m.out);
            }
            if (c.tensors.containsKey("hebbian." + l)) {
                heb[l] = c.finite("hebbian." + l, file, m.out, m.in);
                String f = meta(c, "hebbian." + l + ".fresh", file);
                if (!f.equals("true") && !f.equals("false")) throw new UserError(file + ": metadata 'hebbian." + l + ".fresh' is '" + abbreviate(f) + "', not true or false");
                fresh[l] = Boolean.parseBoolean(f);
            }
        }
        float[][] enc = readEncoder(c, file);
        float[][][] encState = null;
        if (enc != null) {
            PatchEncoder pe = encoderShape(c, file);
            long out = pe.outChannels(), in = enc[0].length / pe.outChannels();
            encState = new float[slots][][];
            for (int s = 0; s < slots; s++) {
                encState[s] = new float[][]{c.finite("optim.encoder.weight." + s, file, out, in),
                        c.finite("optim.encoder.bias." + s, file, out)};
            }
        }
        int epochsDone = metaInt(c, "epochs_done", file, 0, Integer.MAX_VALUE);
        long step = metaLong(c, "step", file, 0, Long.MAX_VALUE);
        double trainSeconds;
        try {
            trainSeconds = Double.parseDouble(meta(c, "train_seconds", file));
        } catch (NumberFormatException e) {
            trainSeconds = Double.NaN;
        }
        if (!(trainSeconds >= 0) || Double.isInfinite(trainSeconds)) {
            throw new UserError(file + ": metadata 'train_seconds' is '" + abbreviate(meta(c, "train_seconds", file)) + "', not a time");
        }
        RunClock clock = new RunClock(trainSeconds, optionalTime(c, "wall_seconds", file, trainSeconds),
                optionalTime(c, "steady_seconds", file, 0), c.metadata.containsKey("steady_samples")
                        ? metaLong(c, "steady_samples", file, 0, Long.MAX_VALUE) : 0);
        List<String> metrics = lines(meta(c, "metrics", file));
        if (metrics.size() != epochsDone) {
            throw new UserError(file + ": epochs_done is " + epochsDone + " but it holds " + metrics.size() + " metric rows");
        }
        for (int k = 0; k < metrics.size(); k++) {
            EpochMetrics m = EpochMetrics.parseChecked(metrics.get(k), file + ": metric row " + (k + 1));
            if (m.epoch() != k + 1) throw new UserError(file + ": metric row " + (k + 1) + " is numbered epoch " + m.epoch());
        }
        List<String> dstRows = lines(meta(c, "dst", file));
        for (int k = 0; k < dstRows.size(); k++) {
            String[] f = dstRows.get(k).split(",", -1);
            long at;
            try {
                at = f.length == org.g2g.dst.DstStats.CSV_HEADER.split(",").length ? Long.parseLong(f[0]) : -1;
            } catch (NumberFormatException e) {
                at = -1;
            }
            if (at < 1 || at > step) {
                throw new UserError(file + ": DST row " + (k + 1) + " is not a row of dst.csv up to step " + step + ": '"
                        + abbreviate(dstRows.get(k)) + "'");
            }
        }
        return new Checkpoint(epochsDone, step, clock, metrics, dstRows, masks, w, ws, bs, heb, fresh, enc, encState);
    }

    /** The options the checkpoint was made with (its "config" metadata), checked like a config file. */
    public static org.g2g.config.RunConfig config(SafeTensors.Contents c, Path file) {
        String json = meta(c, "config", file);
        java.util.Map<String, Object> m;
        try {
            @SuppressWarnings("unchecked")
            java.util.Map<String, Object> parsed = RunRecorder.JSON.readValue(json, java.util.Map.class);
            m = parsed;
        } catch (java.io.IOException | RuntimeException e) {
            throw new UserError(file + ": metadata 'config' is not a JSON object of options");
        }
        if (m == null) throw new UserError(file + ": metadata 'config' is not a JSON object of options");
        try {
            return org.g2g.config.RunConfig.builder().setAll(m).build();
        } catch (UserError e) {
            throw new UserError(file + ": metadata 'config': " + e.getMessage());
        }
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
