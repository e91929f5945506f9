package org.g2g.profile;

import org.g2g.backend.Backend;

import java.util.Arrays;

/** Repeated timing of one backend call, waiting for the device after each; and percentiles. */
public final class Timing {
    private Timing() {}

    /** Milliseconds of each call after {@code warm} untimed ones, until minSeconds and minReps are both reached (at most maxReps). */
    public static double[] samplesMs(Backend be, Runnable call, int warm, double minSeconds, int minReps, int maxReps) {
        for (int k = 0; k < warm; k++) call.run();
        be.sync();
        double[] ms = new double[maxReps];
        int n = 0;
        long start = System.nanoTime();
        while (n < maxReps && (n < minReps || (System.nanoTime() - start) / 1e9 < minSeconds)) {
            long t0 = System.nanoTime();
            call.run();
            be.sync();
            ms[n++] = (System.nanoTime() - t0) / 1e6;
        }
        return Arrays.copyOf(ms, n);
    }

    public static double median(double[] v) { return percentile(v, 50); }

    public static double min(double[] v) { return Arrays.stream(v).min().orElse(Double.NaN); }

    /** Linear interpolation between closest ranks (numpy's default). */
    public static double percentile(double[] v, double p) {
        if (v.length == 0) return Double.NaN;
        double[] s = v.clone();
        Arrays.sort(s);
        double pos = p / 100.0 * (s.length - 1);
        int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }
}
