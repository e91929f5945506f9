package org.g2g.train;

import java.util.Locale;

/**
 * Training metrics over the last window of steps (--log-every N): mean loss and accuracy of
 * the window's batches, the learning rate of its last step, samples/s over the window.
 */
public record StepMetrics(long step, int epoch, double loss, double acc, double lr, double samplesPerS) {
    public static final String CSV_HEADER = "step,epoch,train_loss,train_acc,lr,samples_per_s";

    public String csv() {
        return String.format(Locale.ROOT, "%d,%d,%.6f,%.6f,%.6g,%.1f", step, epoch, loss, acc, lr, samplesPerS);
    }
}
