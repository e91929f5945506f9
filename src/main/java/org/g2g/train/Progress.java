package org.g2g.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress of a run for humans: a live line (carriage return) on a terminal, plain lines at
 * most every 30 s and at quarters of an epoch otherwise, so CI logs stay readable.
 */
public final class Progress implements TrainListener {
    private final PrintStream out;
    private final boolean live;
    private final long startNanos = System.nanoTime();
    private long lastPrint;
    private int lastQuarter = -1;
    private long stepsDone;
    private final long totalSteps;
    private final long firstStep;

    public Progress(PrintStream out, boolean live, long firstStep, long totalSteps) {
        this.out = out;
        this.live = live;
        this.firstStep = firstStep;
        this.totalSteps = totalSteps;
    }

    public static boolean isTerminal() { return System.console() != null && System.getenv("CI") == null; }

    @Override
    public void onStep(long step, int epoch, int batch, int batches, double samplesPerS) {
        stepsDone = step - firstStep;
        long now = System.nanoTime();
        double elapsed = (now - startNanos) / 1e9;
        double eta = stepsDone == 0 ? 0 : elapsed / stepsDone * (totalSteps - step);
        String line = String.format(Locale.ROOT, "epoch %d step %d/%d (%d/%d) %,.0f samples/s ETA %s",
                epoch + 1, step, totalSteps, batch, batches, samplesPerS, duration(eta));
        if (live) {
            if (now - lastPrint > 250_000_000L || batch == batches) {
                out.print("\r" + line + "   ");
                out.flush();
                lastPrint = now;
            }
        } else {
            int quarter = batch * 4 / batches; // 4 = the epoch's end, which onEpoch reports
            if ((quarter != lastQuarter && quarter < 4) || now - lastPrint > 30_000_000_000L) {
                out.println(line);
                lastPrint = now;
                lastQuarter = quarter;
            }
        }
    }

    @Override
    public void onEpoch(EpochMetrics m, int epochs) {
        if (live) out.print("\r\033[K");
        out.println(String.format(Locale.ROOT,
                "epoch %d/%d  train loss %.4f acc %.2f%%  %stest loss %.4f acc %.2f%%  lr %.2e  %,.0f samples/s  %.1fs",
                m.epoch(), epochs, m.trainLoss(), 100 * m.trainAcc(),
                Double.isNaN(m.valAcc()) ? "" : String.format(Locale.ROOT, "val acc %.2f%%  ", 100 * m.valAcc()),
                m.testLoss(), 100 * m.testAcc(), m.lr(), m.samplesPerS(), m.seconds()));
        lastQuarter = -1;
    }

    public static String duration(double s) {
        if (s < 60) return String.format(Locale.ROOT, "%.0fs", s);
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", (int) s / 60, (int) s % 60);
        return String.format(Locale.ROOT, "%dh%02dm", (int) s / 3600, ((int) s % 3600) / 60);
    }
}
