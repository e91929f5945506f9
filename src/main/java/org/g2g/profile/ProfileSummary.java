package org.g2g.profile;

import org.g2g.config.CudaGraphs;
import org.g2g.config.RunConfig;
import org.g2g.model.Architecture;
import org.g2g.train.Phase;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The repeats of each model reduced to the report's figures, and the ratios between models. */
final class ProfileSummary {
    private ProfileSummary() {}

    static ProfileReport.ModelProfile summarise(String name, RunConfig c, List<StepMeasurement.Run> runs, Profiler.Options o,
                                                ProfileReport.Calibration cal) {
        StepMeasurement.Run first = runs.get(0);
        int steps = 0;
        long[] ph = new long[Phase.values().length];
        List<Double> win = new ArrayList<>();
        double dst = 0, heb = 0, dstUpd = 0, stepMsSum = 0;
        Double host = null, launches = null, free = null;
        Map<String, Double> kernels = null;
        long heapPeak = 0, heapLive = 0, device = 0;
        for (StepMeasurement.Run r : runs) {
            steps += r.stepMs.length;
            for (int p = 0; p < ph.length; p++) ph[p] += r.phaseNanos[p];
            for (double v : r.windowSps) win.add(v);
            for (double v : r.stepMs) stepMsSum += v;
            dstUpd += r.dstUpdateMs;
            dst += r.dstUpdateMs / c.updateEvery();
            // the update step's own scores, plus the extra batches an EMA window observes before it
            heb += (r.hebbianUpdateMs + Math.max(0, r.hebbianWindow - 1) * r.correlationMs) / c.updateEvery();
            if (r.hostMs != null) host = (host == null ? 0 : host) + r.hostMs / runs.size();
            if (r.freeRunningSps != null) free = (free == null ? 0 : free) + r.freeRunningSps / runs.size();
            if (r.launchesPerStep != null) launches = (launches == null ? 0 : launches) + r.launchesPerStep / runs.size();
            if (r.kernelMs != null) {
                if (kernels == null) kernels = new LinkedHashMap<>();
                for (Map.Entry<String, Double> e : r.kernelMs.entrySet()) kernels.merge(e.getKey(), e.getValue() / runs.size(), Double::sum);
            }
            heapPeak = Math.max(heapPeak, r.heapPeak);
            heapLive = Math.max(heapLive, r.heapLive);
            device = Math.max(device, r.device);
        }
        int n = runs.size();
        dst /= n;
        heb /= n;
        dstUpd /= n;
        double corrMs = 0;
        for (StepMeasurement.Run r : runs) corrMs += r.correlationMs / n;
        ProfileReport.StepMs sm = new ProfileReport.StepMs(ms(ph, Phase.DATA, steps), ms(ph, Phase.FORWARD, steps),
                ms(ph, Phase.LOSS, steps), ms(ph, Phase.INPUT_GRAD, steps), ms(ph, Phase.WEIGHT_GRAD, steps),
                ms(ph, Phase.OPTIMIZER, steps), heb, dst, 0);
        double total = sm.data() + sm.forward() + sm.loss() + sm.inputGrad() + sm.weightGrad() + sm.optimizer() + heb + dst;
        sm = new ProfileReport.StepMs(sm.data(), sm.forward(), sm.loss(), sm.inputGrad(), sm.weightGrad(), sm.optimizer(),
                heb, dst, total);
        double[] w = win.stream().mapToDouble(Double::doubleValue).toArray();
        ProfileReport.Throughput tp = new ProfileReport.Throughput(Timing.median(w), Timing.percentile(w, 10),
                Timing.percentile(w, 90), w.length, c.batch() * 1000.0 / total);
        double meanStepS = stepMsSum / steps / 1e3;
        double gflops = first.flopsActive / meanStepS / 1e9;
        double gflopsDense = first.flopsDense / meanStepS / 1e9;
        Architecture a = first.arch;
        return new ProfileReport.ModelProfile(name, c.modelKind().spelling(), a.widths(), a.density(), a.activeParams(), a.denseParams(),
                steps, tp, sm, first.dstEnabled ? dstUpd : null, first.hasSparse ? corrMs : null, host,
                host == null ? null : host * 1e3, launches, host == null ? null : c.cudaGraphs() == CudaGraphs.ON, free, kernels,
                new ProfileReport.FlopsPerStep(first.flopsActive, first.flopsDense, first.flopsExecuted, first.flopsForward), gflops, gflopsDense,
                gflops / cal.peakGflops(), new ProfileReport.Memory(heapPeak, heapLive, device));
    }

    static double ms(long[] ph, Phase p, int steps) { return ph[p.ordinal()] / 1e6 / steps; }

    static List<ProfileReport.Ratio> ratios(List<ProfileReport.ModelProfile> models) {
        List<ProfileReport.Ratio> out = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            for (int j = i + 1; j < models.size(); j++) {
                ProfileReport.ModelProfile a = models.get(i), b = models.get(j);
                long ma = a.memoryBytes().heapLive() + a.memoryBytes().device();
                long mb = b.memoryBytes().heapLive() + b.memoryBytes().device();
                out.add(new ProfileReport.Ratio(a.name(), b.name(),
                        a.samplesPerSecond().median() / b.samplesPerSecond().median(),
                        a.stepMs().total() / b.stepMs().total(),
                        (double) a.flopsPerStep().active() / b.flopsPerStep().active(),
                        mb == 0 ? null : (double) ma / mb));
            }
        }
        return out;
    }
}
