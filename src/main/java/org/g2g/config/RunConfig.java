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
    private final Resolved resolved;

    private RunConfig(Map<String, Object> values) {
        this.values = Collections.unmodifiableMap(values);
        this.resolved = resolve();
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
            return new RunConfig(new LinkedHashMap<>(v));
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

    /**
     * The options that name a choice, resolved once. The p' rules (is a --density reachable?)
     * belong to the model and are checked there, when the architecture is resolved.
     */
    private record Resolved(ModelKind model, EncoderKind encoder, GroupingStrategy grouping, Prune prune, Regrow regrow,
                            PruneSchedule pruneSchedule, HebbianCorrelation hebbian, OptimizerKind optimizer,
                            LrScheduleKind lrSchedule, DeviceSpec device) {}

    private Resolved resolve() {
        for (Key k : Keys.ALL) k.check(values.get(k.name()));
        Resolved r = new Resolved(choice(ModelKind.class, "model"), choice(EncoderKind.class, "encoder"),
                choice(GroupingStrategy.class, "grouping"),
                choice(Prune.class, "prune"), choice(Regrow.class, "regrow"),
                choice(PruneSchedule.class, "prune-schedule"), choice(HebbianCorrelation.class, "hebbian"),
                choice(OptimizerKind.class, "optimizer"), choice(LrScheduleKind.class, "lr-schedule"),
                DeviceSpec.parse((String) values.get("device")));
        if (r.model() == ModelKind.G2G && hidden() % groups() != 0) {
            throw new ConfigError("groups", groups() + " does not divide the hidden width " + hidden());
        }
        if (!patches().matches("\\s*[1-9]\\d{0,4}\\s*[xX]\\s*[1-9]\\d{0,4}\\s*")) {
            throw new ConfigError("patches", "'" + patches() + "' is not a grid RxC such as 4x4");
        }
        if (matchParams() && r.model() != ModelKind.DENSE) throw new ConfigError("match-params", "applies only to --model dense");
        return r;
    }

    private <E extends Enum<E> & Choice> E choice(Class<E> type, String key) {
        return Choice.parse(type, (String) values.get(key));
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
    /** The augmentation in effect: auto resolves by dataset (crop-flip on CIFAR, none on the MNIST family). */
    public Augmentation augment() {
        Augmentation a = choice(Augmentation.class, "augment");
        if (a != Augmentation.AUTO) return a;
        return dataset().startsWith("cifar") ? Augmentation.CROP_FLIP : Augmentation.NONE;
    }
    public int valSplit() { return (Integer) values.get("val-split"); }
    public int limitTrain() { return (Integer) values.get("limit-train"); }
    public int limitTest() { return (Integer) values.get("limit-test"); }
    public ModelKind modelKind() { return resolved.model(); }
    public EncoderKind encoderKind() { return resolved.encoder(); }
    public String patches() { return (String) values.get("patches"); }
    public int patchChannels() { return (Integer) values.get("patch-channels"); }
    public boolean matchParams() { return (Boolean) values.get("match-params"); }
    public int hidden() { return (Integer) values.get("hidden"); }
    public int layers() { return (Integer) values.get("layers"); }
    public int groups() { return (Integer) values.get("groups"); }
    public double pIntra() { return (Double) values.get("p-intra"); }
    public double pInter() { return (Double) values.get("p-inter"); }
    public GroupingStrategy groupingStrategy() { return resolved.grouping(); }
    public Double density() { return (Double) values.get("density"); }
    public Prune pruneCriterion() { return resolved.prune(); }
    public Regrow regrowCriterion() { return resolved.regrow(); }
    public int updateEvery() { return (Integer) values.get("update-every"); }
    public double pruneFraction() { return (Double) values.get("prune-fraction"); }
    public PruneSchedule pruneScheduleKind() { return resolved.pruneSchedule(); }
    public HebbianCorrelation hebbianCorrelation() { return resolved.hebbian(); }
    public double hebbianEma() { return (Double) values.get("hebbian-ema"); }
    public OptimizerKind optimizerKind() { return resolved.optimizer(); }
    public double lr() { return (Double) values.get("lr"); }
    public double momentum() { return (Double) values.get("momentum"); }
    public boolean nesterov() { return (Boolean) values.get("nesterov"); }
    public double weightDecay() { return (Double) values.get("weight-decay"); }
    public int batch() { return (Integer) values.get("batch"); }
    public int epochs() { return (Integer) values.get("epochs"); }
    public LrScheduleKind lrScheduleKind() { return resolved.lrSchedule(); }
    public long seed() { return (Long) values.get("seed"); }
    public int threads() { return (Integer) values.get("threads"); }
    public int logEvery() { return (Integer) values.get("log-every"); }
    public boolean tensorboard() { return (Boolean) values.get("tensorboard"); }
    public DeviceSpec deviceSpec() { return resolved.device(); }
    public String sparseEngine() { return (String) values.get("sparse-engine"); }
    public CudaGraphs cudaGraphs() { return choice(CudaGraphs.class, "cuda-graphs"); }
    public Precision precision() { return choice(Precision.class, "precision"); }

    /** Keys whose differences do not change what a run computes (ok to differ on --resume). */
    public static boolean isExecutionOnly(String key) {
        return key.equals("device") || key.equals("threads") || key.equals("data") || key.equals("sparse-engine")
                || key.equals("cuda-graphs")
                || key.equals("log-every") || key.equals("tensorboard");
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
