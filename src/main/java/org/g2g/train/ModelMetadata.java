package org.g2g.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import org.g2g.Version;
import org.g2g.config.RunConfig;
import org.g2g.data.ImageFormat;
import org.g2g.data.Standardise;
import org.g2g.model.Architecture;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The metadata of model.safetensors: everything needed to rebuild and feed the model with no
 * g2g (docs/python-example.md reads exactly these keys). safetensors metadata is string to
 * string, so lists and numbers are JSON text.
 *
 * <p>The model: h_0 = input; h_{l+1} = relu(h_l W_l^T + b_l) for l below depth-1, and the
 * logits h_depth = h_{depth-1} W^T + b, with W = layers.l.weight (out x in, already zero off
 * layers.l.mask). The input: pixels / 255 (float32), flattened as input_shape (C, H, W), then
 * (x - standardize_mean) / standardize_std when standardize is not none.
 */
public final class ModelMetadata {
    private ModelMetadata() {}

    public static final String FORMAT = "g2g-model-1";

    /** The keys every model file carries (a test checks them; the Python example relies on them). */
    public static final List<String> KEYS = List.of("format", "g2g_version", "config", "config_sha256", "dataset",
            "input_shape", "input_divisor", "standardize", "standardize_mean", "standardize_std", "widths", "depth",
            "activation", "output", "model", "groups", "grouping", "group_labels", "class_names", "encoder");

    public static Map<String, String> of(RunConfig c, String configJson, ImageFormat fmt, Standardise.Stats st,
                                         Architecture arch) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("g2g_version", Version.version());
        String commit = Version.gitCommit();
        if (commit != null) m.put("git_commit", commit);
        m.put("config", configJson);
        m.put("config_sha256", sha256(configJson));
        m.put("dataset", c.dataset());
        m.put("input_shape", json(List.of(fmt.channels(), fmt.height(), fmt.width())));
        m.put("input_divisor", Integer.toString(ImageFormat.PIXEL_DIVISOR));
        m.put("standardize", st.kind().label());
        m.put("standardize_mean", json(st.mean()));
        m.put("standardize_std", json(st.std()));
        m.put("widths", json(arch.widths()));
        m.put("depth", Integer.toString(arch.depth()));
        m.put("activation", "relu");
        m.put("output", "logits");
        m.put("model", c.modelKind().spelling());
        m.put("groups", Integer.toString(c.groups()));
        m.put("grouping", c.groupingStrategy().spelling());
        // per sparse layer of a g2g model: the group of each output / input unit (I32 tensors)
        m.put("group_labels", "layers.{l}.group_out,layers.{l}.group_in");
        m.put("class_names", json(fmt.classNames()));
        m.put("encoder", "none");
        return m;
    }

    public static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String json(Object o) {
        try {
            return RunRecorder.COMPACT_JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
