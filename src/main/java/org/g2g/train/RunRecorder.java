package org.g2g.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.g2g.UserError;
import org.g2g.Version;
import org.g2g.config.RunConfig;
import org.g2g.dst.DstStats;
import org.g2g.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run directory: config.json, metrics.csv, dst.csv, summary.json, model.safetensors and
 * checkpoint.safetensors. Every file is rewritten whole and atomically, so a run killed at
 * any moment leaves each file complete (old or new).
 */
public final class RunRecorder {
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** One-line JSON, for values inside other formats (safetensors metadata, CSV cells). */
    public static final ObjectMapper COMPACT_JSON = new ObjectMapper();

    public final Path dir;
    private final List<String> metricRows = new ArrayList<>();
    private final List<String> dstRows = new ArrayList<>();

    public RunRecorder(Path dir) {
        this.dir = dir;
        ensureWritable(dir);
    }

    /** Creates dir if needed and proves it writable; a UserError naming it otherwise. */
    public static void ensureWritable(Path dir) {
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".write-test", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new UserError("output directory " + dir + ": not writable (" + AtomicFiles.reason(e) + ")");
        }
    }

    public Path config() { return dir.resolve("config.json"); }
    public Path metrics() { return dir.resolve("metrics.csv"); }
    public Path dst() { return dir.resolve("dst.csv"); }
    public Path summary() { return dir.resolve("summary.json"); }
    public Path model() { return dir.resolve("model.safetensors"); }
    public Path checkpoint() { return dir.resolve("checkpoint.safetensors"); }

    /**
     * config.json: the resolved options, the program that runs them, and the run's identity
     * ({@link RunIdentity}): a resumed run keeps its first session's and adds this one.
     */
    public void writeConfig(RunConfig c, String configJson, java.time.Instant sessionStart) {
        Object previous = null;
        if (Files.isRegularFile(config())) {
            try {
                previous = RunConfig.readMap(config()).get(RunIdentity.KEY);
            } catch (RuntimeException e) {
                previous = null; // resume has read this file already; a block it cannot parse starts afresh
            }
        }
        Map<String, Object> m = new LinkedHashMap<>(c.asMap());
        m.put("g2g_version", Version.version());
        String commit = Version.gitCommit();
        if (commit != null) m.put("git_commit", commit);
        m.put(RunIdentity.KEY, RunIdentity.block(configJson, RunIdentity.session(sessionStart), previous));
        writeJson(config(), m);
    }

    /** Keys of config.json that are bookkeeping, not options. */
    public static final java.util.Set<String> NOT_OPTIONS = java.util.Set.of("g2g_version", "git_commit", RunIdentity.KEY);

    /** Reads a run's saved config (keys of the program, not bookkeeping like the version). */
    public static RunConfig readConfig(Path runDir) {
        Path f = runDir.resolve("config.json");
        if (!Files.isRegularFile(f)) throw new UserError("run directory " + runDir + ": no config.json (not a g2g run?)");
        Map<String, Object> m = new LinkedHashMap<>(RunConfig.readMap(f));
        m.keySet().removeAll(NOT_OPTIONS);
        // runs written before these options existed read flattened pixels, unaugmented
        m.putIfAbsent("encoder", "none");
        m.putIfAbsent("augment", "none");
        return RunConfig.builder().setAll(m).build();
    }

    public void restoreRows(List<String> metrics, List<String> dst) {
        metricRows.clear();
        metricRows.addAll(metrics);
        dstRows.clear();
        dstRows.addAll(dst);
        flushCsv();
    }

    public void addEpoch(EpochMetrics m) { metricRows.add(m.csv()); }

    public void addDst(List<DstStats> s) { for (DstStats d : s) dstRows.add(d.csv()); }

    public List<String> metricRows() { return List.copyOf(metricRows); }

    public List<String> dstRows() { return List.copyOf(dstRows); }

    public List<EpochMetrics> epochs() {
        List<EpochMetrics> out = new ArrayList<>();
        for (String r : metricRows) out.add(EpochMetrics.parse(r));
        return out;
    }

    public void flushCsv() {
        AtomicFiles.writeString(metrics(), EpochMetrics.CSV_HEADER + "\n" + join(metricRows));
        AtomicFiles.writeString(dst(), DstStats.CSV_HEADER + "\n" + join(dstRows));
    }

    private static String join(List<String> rows) {
        StringBuilder sb = new StringBuilder();
        for (String r : rows) sb.append(r).append('\n');
        return sb.toString();
    }

    public void writeSummary(RunSummary summary) { writeJson(summary(), summary); }

    public static void writeJson(Path f, Object value) {
        try {
            AtomicFiles.writeString(f, JSON.writeValueAsString(value) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
