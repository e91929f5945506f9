package org.g2g.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The resolved, validated options of one run. Built in layers, later ones winning:
 * defaults, a JSON/YAML config file, CLI options, --set key=value overrides. Validated
 * once here, so everything downstream can trust it.
 */
public final class RunConfig {
    private final Map<String, Object> values;

    private RunConfig(Map<String, Object> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    public static Builder builder() { return new Builder(); }

    public static RunConfig defaults() { return builder().build(); }

    /** A mutable layering of option values. */
    public static final class Builder {
        private final Map<String, Object> v = new LinkedHashMap<>();

        Builder() { for (Key k : Keys.ALL) v.put(k.name(), k.defaultValue()); }

        public Builder set(String key, Object value) {
            Key k = Keys.get(key.replace('_', '-'));
            v.put(k.name(), value instanceof String s ? k.parse(s) : k.coerce(value));
            return this;
        }

        /** "key=value" as given to --set. */
        public Builder setAssignment(String assignment) {
            int eq = assignment.indexOf('=');
            if (eq <= 0) throw new ConfigError("--set expects key=value, got '" + assignment + "'");
            return set(assignment.substring(0, eq).trim(), assignment.substring(eq + 1));
        }

        public Builder setAll(Map<String, ?> map) {
            for (Map.Entry<String, ?> e : map.entrySet()) set(e.getKey(), e.getValue());
            return this;
        }

        /** Loads a JSON or YAML file (by extension; JSON is valid YAML anyway). */
        public Builder file(Path path) {
            setAll(readMap(path));
            return this;
        }

        public RunConfig build() {
            RunConfig c = new RunConfig(new LinkedHashMap<>(v));
            c.validate();
            return c;
        }
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> readMap(Path path) {
        if (!Files.isRegularFile(path)) throw new ConfigError("config file " + path + ": not found");
        try {
            ObjectMapper m = new ObjectMapper(new YAMLFactory());
            Object o = m.readValue(path.toFile(), Object.class);
            if (o == null) return Map.of();
            if (!(o instanceof Map)) throw new ConfigError("config file " + path + ": expected a mapping of option: value");
            return (Map<String, Object>) o;
        } catch (IOException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage().split("\n")[0];
            throw new ConfigError("config file " + path + ": cannot parse: " + msg);
        }
    }

    private void validate() {
        for (Key k : Keys.ALL) k.check(values.get(k.name()));
        String dev = device();
        if (!dev.matches("auto|cpu|cuda|cuda:\\d+")) throw new ConfigError("device", "'" + dev + "' is not auto, cpu, cuda or cuda:N");
        if (model().equals("g2g")) {
            if (hidden() % groups() != 0) {
                throw new ConfigError("groups", groups() + " does not divide the hidden width " + hidden());
            }
            if (density() != null) {
                double p = org.g2g.model.MaskFactory.pInterForDensity(groups(), pIntra(), density());
                if (p < 0 || p > 1) {
                    throw new ConfigError("density", density() + " is not reachable with groups " + groups()
                            + " and p-intra " + pIntra() + " (needs p-inter " + String.format("%.4f", p) + ")");
                }
            }
        }
        if (!patches().matches("\\s*[1-9]\\d{0,4}\\s*[xX]\\s*[1-9]\\d{0,4}\\s*")) {
            throw new ConfigError("patches", "'" + patches() + "' is not a grid RxC such as 4x4");
        }
        if (matchParams() && !model().equals("dense")) throw new ConfigError("match-params", "applies only to --model dense");
    }

    /** The same options with some changed (re-validated). */
    public RunConfig with(Map<String, ?> changes) {
        Builder b = new Builder();
        b.v.putAll(values);
        b.setAll(changes);
        return b.build();
    }

    public Map<String, Object> asMap() { return values; }

    public Object get(String key) { return values.get(Keys.get(key).name()); }

    public String dataset() { return (String) values.get("dataset"); }
    public String data() { return (String) values.get("data"); }
    public String standardize() { return (String) values.get("standardize"); }
    public int valSplit() { return (Integer) values.get("val-split"); }
    public int limitTrain() { return (Integer) values.get("limit-train"); }
    public int limitTest() { return (Integer) values.get("limit-test"); }
    public String model() { return (String) values.get("model"); }
    public String encoder() { return (String) values.get("encoder"); }
    public String patches() { return (String) values.get("patches"); }
    public int patchChannels() { return (Integer) values.get("patch-channels"); }
    public boolean matchParams() { return (Boolean) values.get("match-params"); }
    public int hidden() { return (Integer) values.get("hidden"); }
    public int layers() { return (Integer) values.get("layers"); }
    public int groups() { return (Integer) values.get("groups"); }
    public double pIntra() { return (Double) values.get("p-intra"); }
    public double pInter() { return (Double) values.get("p-inter"); }
    public String grouping() { return (String) values.get("grouping"); }
    public Double density() { return (Double) values.get("density"); }
    public String prune() { return (String) values.get("prune"); }
    public String regrow() { return (String) values.get("regrow"); }
    public int updateEvery() { return (Integer) values.get("update-every"); }
    public double pruneFraction() { return (Double) values.get("prune-fraction"); }
    public String pruneSchedule() { return (String) values.get("prune-schedule"); }
    public String hebbian() { return (String) values.get("hebbian"); }
    public double hebbianEma() { return (Double) values.get("hebbian-ema"); }
    public String optimizer() { return (String) values.get("optimizer"); }
    public double lr() { return (Double) values.get("lr"); }
    public double momentum() { return (Double) values.get("momentum"); }
    public boolean nesterov() { return (Boolean) values.get("nesterov"); }
    public double weightDecay() { return (Double) values.get("weight-decay"); }
    public int batch() { return (Integer) values.get("batch"); }
    public int epochs() { return (Integer) values.get("epochs"); }
    public String lrSchedule() { return (String) values.get("lr-schedule"); }
    public long seed() { return (Long) values.get("seed"); }
    public int threads() { return (Integer) values.get("threads"); }
    public String device() { return (String) values.get("device"); }
    public String sparseEngine() { return (String) values.get("sparse-engine"); }

    /** Keys whose differences do not change what a run computes (ok to differ on --resume). */
    public static boolean isExecutionOnly(String key) {
        return key.equals("device") || key.equals("threads") || key.equals("data") || key.equals("sparse-engine");
    }

    /** Keys (other than execution-only ones) on which two configs differ, as "key: a -> b". */
    public java.util.List<String> differences(RunConfig other) {
        java.util.List<String> d = new java.util.ArrayList<>();
        for (Key k : Keys.ALL) {
            if (isExecutionOnly(k.name())) continue;
            Object a = values.get(k.name()), b = other.values.get(k.name());
            if (!Objects.equals(a, b)) d.add(k.name() + ": " + a + " -> " + b);
        }
        return d;
    }

    @Override public boolean equals(Object o) { return o instanceof RunConfig r && r.values.equals(values); }
    @Override public int hashCode() { return values.hashCode(); }
    @Override public String toString() { return values.toString(); }
}
