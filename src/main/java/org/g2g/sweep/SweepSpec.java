package org.g2g.sweep;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.g2g.UserError;
import org.g2g.config.ConfigError;
import org.g2g.config.Keys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sweep as the user wrote it (YAML):
 * <pre>
 * name: paper-table1
 * base: {dataset: fashion-mnist, epochs: 20}     # options of every run
 * grid: {seed: [1, 2, 3]}                         # cartesian product over these options
 * variants:                                       # optional named rows, crossed with the grid
 *   - {label: dense-same-width, model: dense, cross: [seed]}
 *   - {label: g2g-mixer, model: g2g, grouping: mixer}
 * baseline: dense-same-width                      # label(s) the differences are taken against
 * </pre>
 * Only the shape is checked here (known keys, lists where lists belong); values are checked
 * when {@link Grid} builds each run's RunConfig. Keys may use '-' or '_'.
 */
public record SweepSpec(String name, Map<String, Object> base, Map<String, List<Object>> grid,
                        List<Variant> variants, List<String> baseline, String origin, String text) {

    static final List<String> TOP_KEYS = List.of("name", "base", "grid", "variants", "baseline");
    static final String LABEL_CHARS = "[A-Za-z0-9._+-]+";

    /**
     * A named set of overrides. cross: the grid axes this variant is crossed with (null = all);
     * an axis it sets itself or does not cross takes the variant's (or the base) value.
     */
    public record Variant(String label, Map<String, Object> overrides, List<String> cross) {}

    public static SweepSpec read(Path file) {
        if (!Files.isRegularFile(file)) throw new UserError("sweep spec " + file + ": not found");
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new UserError("sweep spec " + file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    public static SweepSpec parse(String yaml, String origin) {
        Object root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readValue(yaml, Object.class);
        } catch (IOException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage().split("\n")[0];
            throw err(origin, "cannot parse YAML: " + msg);
        }
        if (!(root instanceof Map<?, ?> top)) throw err(origin, "expected a mapping with keys " + TOP_KEYS);
        for (Object k : top.keySet()) {
            if (!TOP_KEYS.contains(String.valueOf(k))) {
                throw err(origin, "unknown key '" + k + "' (expected one of " + String.join(", ", TOP_KEYS) + ")");
            }
        }
        String name = top.get("name") == null ? defaultName(origin) : String.valueOf(top.get("name"));
        if (!name.matches(LABEL_CHARS)) throw err(origin, "name '" + name + "': use letters, digits, '.', '_', '+', '-'");

        Map<String, Object> base = options(origin, "base", top.get("base"));
        for (Map.Entry<String, Object> e : base.entrySet()) {
            if (e.getValue() instanceof List || e.getValue() instanceof Map) {
                throw err(origin, "base." + e.getKey() + ": expected one value (put lists of values under grid)");
            }
        }

        Map<String, List<Object>> grid = new LinkedHashMap<>();
        Object g = top.get("grid");
        if (g != null && !(g instanceof Map)) throw err(origin, "grid: expected a mapping of option: [values]");
        if (g != null) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) g).entrySet()) {
                String key = key(origin, "grid", e.getKey());
                if (!(e.getValue() instanceof List<?> values)) {
                    throw err(origin, "grid." + key + ": expected a list of values, got " + e.getValue());
                }
                if (values.isEmpty()) throw err(origin, "grid." + key + ": empty list (the grid would have no runs)");
                List<Object> vs = new ArrayList<>();
                for (Object v : values) {
                    if (v == null || v instanceof List || v instanceof Map) {
                        throw err(origin, "grid." + key + ": each value must be a single number, string or boolean, got " + v);
                    }
                    vs.add(v);
                }
                grid.put(key, vs);
            }
        }

        List<Variant> variants = new ArrayList<>();
        Object vs = top.get("variants");
        if (vs != null && !(vs instanceof List)) throw err(origin, "variants: expected a list of {label: ..., option: value}");
        Set<String> labels = new LinkedHashSet<>();
        if (vs != null) {
            int i = 0;
            for (Object o : (List<?>) vs) {
                String where = "variants[" + i++ + "]";
                if (!(o instanceof Map<?, ?> m)) throw err(origin, where + ": expected a mapping {label: ..., option: value}");
                Map<String, Object> ov = new LinkedHashMap<>();
                String label = null;
                List<String> cross = null;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    String k = String.valueOf(e.getKey());
                    if (k.equals("label")) { label = String.valueOf(e.getValue()); continue; }
                    if (k.equals("cross")) {
                        if (!(e.getValue() instanceof List<?> l)) throw err(origin, where + ".cross: expected a list of grid options");
                        cross = new ArrayList<>();
                        for (Object c : l) {
                            String ck = key(origin, where + ".cross", c);
                            if (!grid.containsKey(ck)) throw err(origin, where + ".cross: '" + ck + "' is not an option of the grid");
                            cross.add(ck);
                        }
                        continue;
                    }
                    String key = key(origin, where, k);
                    if (e.getValue() instanceof List || e.getValue() instanceof Map) {
                        throw err(origin, where + "." + key + ": expected one value");
                    }
                    ov.put(key, e.getValue());
                }
                if (label == null) label = defaultLabel(ov);
                if (!label.matches(LABEL_CHARS)) {
                    throw err(origin, where + ".label '" + label + "': use letters, digits, '.', '_', '+', '-'");
                }
                if (!labels.add(label)) throw err(origin, where + ".label '" + label + "' is used twice");
                variants.add(new Variant(label, ov, cross));
            }
            if (variants.isEmpty()) throw err(origin, "variants: empty list (leave it out for no variants)");
        }
        if (grid.isEmpty() && variants.isEmpty()) {
            throw err(origin, "empty grid: give grid (option: [values]) or variants, or both");
        }

        List<String> baseline = new ArrayList<>();
        Object b = top.get("baseline");
        if (b instanceof List<?> l) { for (Object x : l) baseline.add(String.valueOf(x)); }
        else if (b != null) baseline.add(String.valueOf(b));
        for (String l : baseline) {
            if (!labels.contains(l)) throw err(origin, "baseline: '" + l + "' is not the label of a variant " + labels);
        }
        return new SweepSpec(name, base, grid, variants, baseline, origin, yaml);
    }

    private static Map<String, Object> options(String origin, String where, Object o) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (o == null) return m;
        if (!(o instanceof Map<?, ?> map)) throw err(origin, where + ": expected a mapping of option: value");
        for (Map.Entry<?, ?> e : map.entrySet()) m.put(key(origin, where, e.getKey()), e.getValue());
        return m;
    }

    /** A run option name, normalised to dashes; unknown names are refused naming where they are. */
    private static String key(String origin, String where, Object raw) {
        String k = String.valueOf(raw).trim().replace('_', '-');
        try {
            return Keys.get(k).name();
        } catch (ConfigError e) {
            throw err(origin, where + ": " + e.getMessage());
        }
    }

    private static String defaultLabel(Map<String, Object> ov) {
        StringBuilder sb = new StringBuilder();
        for (Object v : ov.values()) {
            if (sb.length() > 0) sb.append('-');
            sb.append(Grid.format(v));
        }
        return sb.length() == 0 ? "base" : Grid.sanitize(sb.toString());
    }

    private static String defaultName(String origin) {
        String f = Path.of(origin).getFileName().toString();
        int dot = f.lastIndexOf('.');
        return Grid.sanitize(dot > 0 ? f.substring(0, dot) : f);
    }

    static UserError err(String origin, String msg) {
        return new UserError("sweep spec " + origin + ": " + msg);
    }
}
