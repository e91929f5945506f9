package org.g2g.train;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import org.g2g.UserError;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What summary.json holds about a run: its outcome, size, cost and where it ran. Written and
 * read by Jackson under the snake_case keys below, in this order; unknown keys are ignored
 * when reading, so a summary from a newer g2g still reads.
 *
 * @param selectedBy which accuracy picked the best epoch: "val_accuracy" or "test_accuracy"
 * @param valAccuracy null without --val-split
 * @param phaseMsPerStep wall time per training step by phase, over the steps this process
 *        ran (the phases are not timed on a device sync)
 * @param trainSamplesPerSecond samples trained per second of training time, leaving out the
 *        first {@link RunClock#WARMUP_STEPS} steps of every process that trained the run (JIT
 *        compilation; the device is synchronised at the end of that step); evaluation and
 *        checkpoints are not training time. A run whose sessions never got past their warm-up
 *        gives the mean of its epochs' rates instead
 * @param trainSeconds time in training steps, summed over every process that trained the run
 * @param seconds wall time, summed over every process that trained the run: each from its
 *        start (data load included) to its last checkpoint, the last to the end
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"status", "model", "dataset", "epochs", "steps", "test_accuracy", "test_loss", "best_test_accuracy",
        "best_epoch", "selected_by", "test_accuracy_at_best_epoch", "val_accuracy", "best_val_accuracy", "train_accuracy",
        "active_params", "dense_params", "density", "widths", "flops_per_sample", "train_samples_per_second",
        "phase_ms_per_step", "device", "device_description", "train_seconds", "seconds", "g2g_version"})
public record RunSummary(
        String status,
        String model,
        String dataset,
        int epochs,
        long steps,
        @JsonProperty("test_accuracy") double testAccuracy,
        @JsonProperty("test_loss") double testLoss,
        @JsonProperty("best_test_accuracy") double bestTestAccuracy,
        @JsonProperty("best_epoch") int bestEpoch,
        @JsonProperty("selected_by") String selectedBy,
        @JsonProperty("test_accuracy_at_best_epoch") double testAccuracyAtBestEpoch,
        @JsonProperty("val_accuracy") Double valAccuracy,
        @JsonProperty("best_val_accuracy") Double bestValAccuracy,
        @JsonProperty("train_accuracy") double trainAccuracy,
        @JsonProperty("active_params") long activeParams,
        @JsonProperty("dense_params") long denseParams,
        double density,
        List<Integer> widths,
        @JsonProperty("flops_per_sample") FlopsPerSample flopsPerSample,
        @JsonProperty("train_samples_per_second") double trainSamplesPerSecond,
        @JsonProperty("phase_ms_per_step") Map<String, Double> phaseMsPerStep,
        String device,
        @JsonProperty("device_description") String deviceDescription,
        @JsonProperty("train_seconds") double trainSeconds,
        double seconds,
        @JsonProperty("g2g_version") String g2gVersion) {

    public static final String FINISHED = "finished";

    /** FLOPs per sample of the final masks: active edges and the dense equivalent. */
    @JsonPropertyOrder({"forward", "forward_dense", "train", "train_dense"})
    public record FlopsPerSample(long forward, @JsonProperty("forward_dense") long forwardDense, long train,
                                 @JsonProperty("train_dense") long trainDense) {}

    public boolean finished() { return FINISHED.equals(status); }

    /** val_accuracy, NaN when the run held out no validation split. */
    public double valAccuracyOrNaN() { return valAccuracy == null ? Double.NaN : valAccuracy; }

    public static RunSummary read(Path f) {
        try {
            return RunRecorder.JSON.readValue(f.toFile(), RunSummary.class);
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage().split("\n")[0];
            throw new UserError(f + ": unreadable (" + why + ")");
        }
    }
}
