package org.g2g.profile;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.g2g.UserError;
import org.g2g.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What `g2g profile --json` writes, schema {@link #SCHEMA} (documented field by field in
 * docs/profile-json.md). Records map one to one onto JSON objects with snake_case names;
 * a change of meaning bumps the schema version, new fields may be added without one.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record ProfileReport(String schema, String g2gVersion, Device device, Settings settings,
                            List<ModelProfile> models, List<Ratio> ratios, Concurrency concurrency) {

    public static final String SCHEMA = "g2g-profile/1";

    /** Without the concurrent-runs measurement (null: --concurrent not given). */
    public ProfileReport(String schema, String g2gVersion, Device device, Settings settings, List<ModelProfile> models,
                         List<Ratio> ratios) {
        this(schema, g2gVersion, device, settings, models, ratios, null);
    }

    /** This report with the concurrent-runs measurement added. */
    public ProfileReport withConcurrency(Concurrency c) {
        return new ProfileReport(schema, g2gVersion, device, settings, models, ratios, c);
    }

    /**
     * `--concurrent K`: k runs of {@code model} trained at once in this process (k = 1, 2, 4, ..., K), each
     * with its own backend, stream, graphs and memory; emulated: the figures are the emulated device's
     * (CPU emulation), not a GPU's.
     */
    public record Concurrency(String model, String device, boolean emulated, int batch, int stepsPerRun,
                              List<ConcurrentLevel> levels) {}

    /** samples/s of all {@code runs} together, the mean of each run's own, and the total over that of one run alone. */
    public record ConcurrentLevel(int runs, double samplesPerSecond, double perRunSamplesPerSecond, double speedupOverOne) {}

    /** The device and its measured peak: a dense GEMM through the backend's dense kernel. */
    /** loadAverage: the system's 1-minute load average when profiling began (other processes compete above ~0). */
    public record Device(String name, String description, String java, int cpuCores, double loadAverage,
                         Calibration calibration) {}

    /** The calibration GEMM: y (out x batch) = W (out x in) x (in x batch), best of several calls. */
    public record Calibration(String kernel, int out, int in, int batch, double bestMs, double peakGflops) {}

    public record Settings(String dataset, int features, int classes, String data, int batch, int warmupSteps,
                           int steps, int repeats, int windowSteps, int updateEvery, List<String> compare) {}

    /** Mean milliseconds per training step by phase; dst and hebbian are amortised over update-every. */
    public record StepMs(double data, double forward, double loss, double inputGrad, double weightGrad,
                         double optimizer, double hebbian, double dst, double total) {}

    /** Training samples per second over windows of steps (warm-up excluded). */
    public record Throughput(double median, double p10, double p90, int windows, double amortised) {}

    /**
     * FLOPs of one training step (2 per multiply-add): active edges, the same layers dense, as executed (plan
     * layout, holes included), and the forward pass's share of active (the weight gradient's is the same, the input
     * gradient's the rest).
     */
    public record FlopsPerStep(long active, long denseEquivalent, long executed, long forward) {}

    /** Bytes: heap_peak = sum of heap pools' peaks while profiling (an upper bound), heap_live = model and buffers after a GC, device = backend allocations. */
    public record Memory(long heapPeak, long heapLive, long device) {}

    public record ModelProfile(String name, String model, int[] widths, double density, long activeParams,
                               long denseParams, int stepsMeasured, Throughput samplesPerSecond, StepMs stepMs,
                               Double dstUpdateMs, Double hebbianCorrelationMs, Double hostMsPerStep,
                               Double hostUsPerStep, Double launchesPerStep, Boolean cudaGraphs,
                               Double freeRunningSamplesPerSecond,
                               Map<String, Double> kernelMsPerStep, FlopsPerStep flopsPerStep, double gflops,
                               double gflopsDenseEquivalent, double peakFraction, Memory memoryBytes) {}

    /** a / b for each pair of compared models, in --compare order. */
    public record Ratio(String a, String b, double samplesPerSecond, double stepMs, double flopsPerStep,
                        Double memoryBytes) {}

    public static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public void write(Path f) {
        try {
            AtomicFiles.writeString(f, JSON.writeValueAsString(this) + "\n");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ProfileReport read(Path f) {
        try {
            return JSON.readValue(f.toFile(), ProfileReport.class);
        } catch (IOException e) {
            throw new UserError(f + ": not a g2g profile (" + e.getMessage().split("\n")[0] + ")");
        }
    }
}
