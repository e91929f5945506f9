package org.g2g.train;

import com.fasterxml.jackson.core.type.TypeReference;
import org.g2g.UserError;
import org.g2g.backend.Backend;
import org.g2g.config.RunConfig;
import org.g2g.data.Split;
import org.g2g.data.Standardise;
import org.g2g.io.SafeTensors;
import org.g2g.model.Architecture;
import org.g2g.model.Mask;
import org.g2g.model.PatchEncoder;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A run's model.safetensors read back: layers, and the {@link ModelMetadata} needed to feed it. */
public final class SavedModel {
    public final Path file;
    public final Map<String, String> metadata;
    public final List<Mask> masks;
    /** [l] -> {W dense out x in, bias}. */
    public final float[][][] weights;
    public final int[] widths;
    /** The standardisation the model was trained with; null for a file written before it was stored. */
    public final Standardise.Stats standardisation;
    /** The patch encoder's shape and {W, bias}; null without one (the file, not the config, says). */
    public final PatchEncoder encoder;
    public final float[][] encoderWeights;

    private SavedModel(Path file, SafeTensors.Contents st) {
        this.file = file;
        this.metadata = st.metadata;
        this.masks = Checkpoint.readMasks(st, file);
        this.weights = Checkpoint.readWeights(st, file, masks);
        widths = new int[masks.size() + 1];
        widths[0] = masks.get(0).in;
        for (int l = 0; l < masks.size(); l++) widths[l + 1] = masks.get(l).out;
        encoder = Checkpoint.encoderShape(st, file);
        encoderWeights = Checkpoint.readEncoder(st, file);
        if (encoder != null && encoder.features() != widths[0]) {
            throw new UserError(file + ": encoder output " + encoder.features() + " does not match layers.0 input " + widths[0]);
        }
        standardisation = metadata.containsKey("standardize") ? new Standardise.Stats(
                Standardise.parse(metadata.get("standardize")), floats("standardize_mean"), floats("standardize_std")) : null;
    }

    public static SavedModel load(Path runDir) {
        Path f = runDir.resolve("model.safetensors");
        return new SavedModel(f, SafeTensors.read(f));
    }

    public int classes() { return widths[widths.length - 1]; }

    /** Pixels per image the model takes. */
    public int inputs() { return encoder == null ? widths[0] : encoder.pixels(); }

    public List<String> classNames() {
        String s = metadata.get("class_names");
        if (s != null) {
            try {
                List<String> l = RunRecorder.JSON.readValue(s, new TypeReference<List<String>>() {});
                if (l.size() == classes()) return l;
            } catch (java.io.IOException e) {
                throw new UserError(file + ": metadata class_names is not a JSON list of strings");
            }
        }
        return java.util.stream.IntStream.range(0, classes()).mapToObj(Integer::toString).toList();
    }

    /** A network on be holding this model (no training state), for batches of up to batch images. */
    public Network network(Backend be, RunConfig c, int batch) {
        Architecture arch = new Architecture(c.modelKind(), widths, masks, Double.NaN, encoder);
        return new Network(be, widths, masks, arch, Optimizer.from(c), batch, weights, encoderWeights);
    }

    /** Softmax probabilities of net for the images of s (already fed as the model expects), n x classes. */
    public static float[] probabilities(Network net, Split s) {
        int k = net.widths[net.widths.length - 1];
        float[] p = new float[s.n() * k];
        try (ResidentSplit e = new ResidentSplit(net.be, s)) {
            for (int off = 0; off < s.n(); off += net.batchCapacity) {
                int bs = Math.min(net.batchCapacity, s.n() - off);
                net.be.gather(e.x, e.y, e.order, off, bs, net.input(), net.labels);
                net.forward(bs);
                float[] logits = net.be.read(net.logits()); // classes x batchCapacity
                for (int b = 0; b < bs; b++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < k; j++) max = Math.max(max, logits[j * net.batchCapacity + b]);
                    double z = 0;
                    for (int j = 0; j < k; j++) z += Math.exp(logits[j * net.batchCapacity + b] - max);
                    for (int j = 0; j < k; j++) {
                        p[(off + b) * k + j] = (float) (Math.exp(logits[j * net.batchCapacity + b] - max) / z);
                    }
                }
            }
        }
        return p;
    }

    /** The index of the largest of row r of an n x k matrix (the first on ties). */
    public static int argmax(float[] p, int r, int k) {
        int best = 0;
        for (int j = 1; j < k; j++) if (p[r * k + j] > p[r * k + best]) best = j;
        return best;
    }

    private float[] floats(String key) {
        String s = metadata.get(key);
        if (s == null) throw new UserError(file + ": metadata '" + key + "' missing");
        try {
            return RunRecorder.JSON.readValue(s, float[].class);
        } catch (java.io.IOException e) {
            throw new UserError(file + ": metadata '" + key + "' is not a JSON list of numbers");
        }
    }
}
