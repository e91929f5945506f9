package org.g2g.profile;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A profile as a text table for people and as CSV (one row per model) for spreadsheets. */
public final class ProfileTable {
    private ProfileTable() {}

    public static String text(ProfileReport r) {
        StringBuilder sb = new StringBuilder();
        ProfileReport.Settings s = r.settings();
        ProfileReport.Calibration cal = r.device().calibration();
        sb.append(f("device %s (%s); peak %.1f GFLOP/s (dense %dx%d batch %d forward)%n", r.device().name(),
                r.device().description(), cal.peakGflops(), cal.out(), cal.in(), cal.batch()));
        sb.append(f("%s data of %s's shape (%d features, %d classes), batch %d, %d warm-up + %d timed steps x %d repeats, "
                        + "windows of %d steps%n%n", s.data(), s.dataset(), s.features(), s.classes(), s.batch(),
                s.warmupSteps(), s.steps(), s.repeats(), s.windowSteps()));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"model", "widths", "density", "samples/s", "p10-p90", "step ms", "data", "fwd", "in-grad",
                "w-grad", "optim", "loss", "hebb*", "dst*", "GFLOP/s", "peak", "heap MiB"});
        for (ProfileReport.ModelProfile m : r.models()) {
            ProfileReport.StepMs t = m.stepMs();
            rows.add(new String[]{m.name(), widths(m.widths()), f("%.3f", m.density()),
                    f("%,.0f", m.samplesPerSecond().median()),
                    f("%,.0f-%,.0f", m.samplesPerSecond().p10(), m.samplesPerSecond().p90()), f("%.2f", t.total()),
                    f("%.2f", t.data()), f("%.2f", t.forward()), f("%.2f", t.inputGrad()), f("%.2f", t.weightGrad()),
                    f("%.2f", t.optimizer()), f("%.2f", t.loss()), f("%.3f", t.hebbian()), f("%.3f", t.dst()),
                    f("%.1f", m.gflops()), f("%.0f%%", 100 * m.peakFraction()),
                    f("%.1f", m.memoryBytes().heapLive() / (double) (1 << 20))});
        }
        sb.append(table(rows));
        sb.append(f("%n* amortised over update-every %d steps:", s.updateEvery()));
        for (ProfileReport.ModelProfile m : r.models()) {
            if (m.dstUpdateMs() == null && m.hebbianCorrelationMs() == null) continue;
            sb.append(f(" %s: DST update %s ms, Hebbian correlation %s ms per batch;", m.name(),
                    m.dstUpdateMs() == null ? "-" : f("%.1f", m.dstUpdateMs()),
                    m.hebbianCorrelationMs() == null ? "-" : f("%.2f", m.hebbianCorrelationMs())));
        }
        sb.append(f("%n"));
        for (ProfileReport.ModelProfile m : r.models()) {
            ProfileReport.FlopsPerStep fl = m.flopsPerStep();
            sb.append(f("%s: %.3f GFLOP per step from active edges (dense equivalent %.3f, executed %.3f), %.1f GFLOP/s "
                            + "dense-equivalent; heap peak %.0f MiB%s%s%n", m.name(), fl.active() / 1e9,
                    fl.denseEquivalent() / 1e9, fl.executed() / 1e9, m.gflopsDenseEquivalent(),
                    m.memoryBytes().heapPeak() / (double) (1 << 20),
                    m.memoryBytes().device() > 0 ? f(", device %.0f MiB", m.memoryBytes().device() / (double) (1 << 20)) : "",
                    m.hostMsPerStep() == null ? "" : f(", host %.1f us/step and %.1f launches/step (cuda graphs %s), "
                            + "%,.0f samples/s free-running", m.hostUsPerStep(), m.launchesPerStep(),
                            Boolean.TRUE.equals(m.cudaGraphs()) ? "on" : "off", m.freeRunningSamplesPerSecond())));
            ProfileReport.StepMs t = m.stepMs();
            sb.append(f("    by phase: forward %.1f GFLOP/s, input gradient %.1f GFLOP/s, weight gradient %.1f GFLOP/s%n",
                    gflops(fl.forward(), t.forward()), gflops(fl.active() - 2 * fl.forward(), t.inputGrad()),
                    gflops(fl.forward(), t.weightGrad())));
            if (m.kernelMsPerStep() != null) {
                for (var e : m.kernelMsPerStep().entrySet()) sb.append(f("    kernel %-28s %8.3f ms/step%n", e.getKey(), e.getValue()));
            }
        }
        if (!r.ratios().isEmpty()) {
            sb.append(f("%nratios:%n"));
            for (ProfileReport.Ratio q : r.ratios()) {
                sb.append(f("  %s / %s: samples/s %.2fx, step time %.2fx, FLOPs %.2fx, memory %s%n", q.a(), q.b(),
                        q.samplesPerSecond(), q.stepMs(), q.flopsPerStep(),
                        q.memoryBytes() == null ? "-" : f("%.2fx", q.memoryBytes())));
            }
        }
        ProfileReport.Concurrency c = r.concurrency();
        if (c != null) {
            sb.append(f("%nconcurrent runs of %s on %s (each its own backend, stream, graphs and memory; batch %d, %d free-running "
                    + "steps each)%s:%n", c.model(), c.device(), c.batch(), c.stepsPerRun(),
                    c.emulated() ? "; figures are the CPU emulation's, not a GPU's" : ""));
            for (ProfileReport.ConcurrentLevel l : c.levels()) {
                sb.append(f("  K=%-3d %,12.0f samples/s together  %,12.0f per run  %6.2fx K=1%n", l.runs(), l.samplesPerSecond(),
                        l.perRunSamplesPerSecond(), l.speedupOverOne()));
            }
        }
        return sb.toString();
    }

    public static final String CSV_HEADER = "name,model,widths,density,samples_per_second,samples_per_second_p10,"
            + "samples_per_second_p90,step_ms,data_ms,forward_ms,loss_ms,input_grad_ms,weight_grad_ms,optimizer_ms,"
            + "hebbian_ms,dst_ms,dst_update_ms,hebbian_correlation_ms,flops_per_step,flops_per_step_dense,"
            + "flops_per_step_executed,gflops,peak_fraction,heap_peak_bytes,heap_live_bytes,device_bytes,device,batch";

    public static String csv(ProfileReport r) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (ProfileReport.ModelProfile m : r.models()) {
            ProfileReport.StepMs t = m.stepMs();
            sb.append(String.join(",", m.name(), m.model(), widths(m.widths()), num(m.density()),
                    num(m.samplesPerSecond().median()), num(m.samplesPerSecond().p10()), num(m.samplesPerSecond().p90()),
                    num(t.total()), num(t.data()), num(t.forward()), num(t.loss()), num(t.inputGrad()), num(t.weightGrad()),
                    num(t.optimizer()), num(t.hebbian()), num(t.dst()), num(m.dstUpdateMs()), num(m.hebbianCorrelationMs()),
                    Long.toString(m.flopsPerStep().active()), Long.toString(m.flopsPerStep().denseEquivalent()),
                    Long.toString(m.flopsPerStep().executed()), num(m.gflops()), num(m.peakFraction()),
                    Long.toString(m.memoryBytes().heapPeak()), Long.toString(m.memoryBytes().heapLive()),
                    Long.toString(m.memoryBytes().device()), r.device().name(), Integer.toString(r.settings().batch())));
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Active-edge FLOPs of a phase over its mean time per step; 0 for a phase that took no time. */
    static double gflops(long flops, double ms) { return ms > 0 ? flops / (ms * 1e6) : 0; }

    static String num(Double v) { return v == null ? "" : String.format(Locale.ROOT, "%.6g", v); }

    /** 784-1024x3-10: runs of equal widths folded. */
    static String widths(int[] w) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < w.length; ) {
            int j = k;
            while (j + 1 < w.length && w[j + 1] == w[k]) j++;
            sb.append(k == 0 ? "" : "-").append(w[k]).append(j > k ? "x" + (j - k + 1) : "");
            k = j + 1;
        }
        return sb.toString();
    }

    /** Left-aligned first column, right-aligned numbers, two spaces between columns. */
    static String table(List<String[]> rows) {
        int[] wd = new int[rows.get(0).length];
        for (String[] r : rows) for (int c = 0; c < r.length; c++) wd[c] = Math.max(wd[c], r[c].length());
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < r.length; c++) {
                if (c > 0) line.append("  ");
                String pad = " ".repeat(wd[c] - r[c].length());
                line.append(c == 0 ? r[c] + pad : pad + r[c]);
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }

    private static String f(String fmt, Object... a) { return String.format(Locale.ROOT, fmt, a); }
}
