package org.g2g.train;

import org.g2g.UserError;
import org.g2g.io.AtomicFiles;
import org.g2g.io.EventFile;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Live curves: metrics_steps.csv (a row per --log-every window) and, with --tensorboard, a
 * TensorBoard event file with the same per-step values (train/*) and every epoch's metrics
 * (epoch/*), so `tensorboard --logdir runs/` shows every run of a sweep side by side.
 * The CSV is appended to as the run goes (a row is cheap; rewriting the file every N steps
 * would not be); a resumed run first drops the rows after its checkpoint, which it repeats.
 */
public final class StepLog implements TrainListener, AutoCloseable {
    public static final String CSV = "metrics_steps.csv";

    private final Path csv;
    private final BufferedWriter out;
    private final EventFile events;
    private long step;

    public StepLog(Path dir, boolean tensorboard, long resumedAt) {
        csv = dir.resolve(CSV);
        try {
            List<String> keep = new ArrayList<>();
            keep.add(StepMetrics.CSV_HEADER);
            if (resumedAt > 0 && Files.isRegularFile(csv)) {
                for (String line : Files.readAllLines(csv, StandardCharsets.UTF_8)) {
                    String[] f = line.split(",");
                    // whole rows of steps the checkpoint covers; a torn last line or the header is dropped
                    if (f.length == 6 && f[0].matches("\\d+") && Long.parseLong(f[0]) <= resumedAt) keep.add(line);
                }
            }
            AtomicFiles.writeString(csv, String.join("\n", keep) + "\n");
            out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UserError(csv + ": cannot write (" + AtomicFiles.reason(e) + ")");
        }
        events = tensorboard ? EventFile.create(dir, resumedAt) : null;
        step = resumedAt;
    }

    @Override
    public void onStep(long step, int epoch, int batchInEpoch, int batchesPerEpoch, double samplesPerS) {
        this.step = step;
    }

    @Override
    public void onWindow(StepMetrics m) {
        try {
            out.write(m.csv());
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UserError(csv + ": cannot write (" + AtomicFiles.reason(e) + ")");
        }
        if (events == null) return;
        Map<String, Double> v = new LinkedHashMap<>();
        v.put("train/loss", m.loss());
        v.put("train/accuracy", m.acc());
        v.put("train/lr", m.lr());
        v.put("train/samples_per_s", m.samplesPerS());
        events.scalars(m.step(), v);
    }

    @Override
    public void onEpoch(EpochMetrics m, int epochs) {
        if (events == null) return;
        Map<String, Double> v = new LinkedHashMap<>();
        v.put("epoch/train_loss", m.trainLoss());
        v.put("epoch/train_accuracy", m.trainAcc());
        v.put("epoch/val_accuracy", m.valAcc());
        v.put("epoch/test_loss", m.testLoss());
        v.put("epoch/test_accuracy", m.testAcc());
        v.put("epoch/lr", m.lr());
        v.put("epoch/density", m.density());
        v.put("epoch/samples_per_s", m.samplesPerS());
        v.put("epoch/epoch", (double) m.epoch());
        events.scalars(step, v);
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UserError(csv + ": cannot write (" + AtomicFiles.reason(e) + ")");
        }
        if (events != null) events.close();
    }
}
