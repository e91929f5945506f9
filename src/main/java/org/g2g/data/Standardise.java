package org.g2g.data;

import org.g2g.UserError;

import java.util.Locale;

/**
 * Optional feature standardisation, x' = (x - mean) / std. Statistics always come from the
 * training split only and are applied to both splits, so no test information leaks into
 * training. Population std (divide by n). Applied in place: the loader owns the arrays and
 * a copy of Fashion-MNIST train would cost another 190 MB.
 */
public enum Standardise {
    /** Keep pixels in [0,1]. */
    NONE,
    /** One mean and std over all training values. */
    GLOBAL,
    /** A mean and std per feature (pixel position). */
    PER_FEATURE;

    /**
     * Below this, a feature is treated as constant (e.g. MNIST border pixels, always 0) and
     * only centred; dividing by ~0 would blow it up to NaN/huge values.
     */
    static final double MIN_STD = 1e-6;

    public static Standardise parse(String s) {
        if (s == null) return NONE;
        switch (s.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "none": return NONE;
            case "global": return GLOBAL;
            case "per-feature": return PER_FEATURE;
            default: throw new UserError("--standardize " + s + ": unknown option (choose none, global, per-feature)");
        }
    }

    /** The option spelling, for logs and run records. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Standardises d.train() and d.test() in place with the training statistics. */
    public void apply(Dataset d) {
        if (this == NONE) return;
        Split tr = d.train();
        int f = d.features();
        double[] mean = new double[this == GLOBAL ? 1 : f];
        double[] var = new double[mean.length];
        // two passes (mean, then squared deviations): one-pass sum-of-squares loses digits
        for (int s = 0; s < tr.n(); s++) {
            for (int k = 0; k < f; k++) mean[this == GLOBAL ? 0 : k] += tr.x()[s * f + k];
        }
        double count = this == GLOBAL ? (double) tr.n() * f : tr.n();
        for (int j = 0; j < mean.length; j++) mean[j] /= count;
        for (int s = 0; s < tr.n(); s++) {
            for (int k = 0; k < f; k++) {
                int j = this == GLOBAL ? 0 : k;
                double dev = tr.x()[s * f + k] - mean[j];
                var[j] += dev * dev;
            }
        }
        float[] m = new float[f], inv = new float[f];
        for (int k = 0; k < f; k++) {
            int j = this == GLOBAL ? 0 : k;
            double std = Math.sqrt(var[j] / count);
            m[k] = (float) mean[j];
            inv[k] = (float) (std < MIN_STD ? 1.0 : 1.0 / std);
        }
        transform(tr, m, inv);
        transform(d.test(), m, inv);
    }

    private static void transform(Split sp, float[] mean, float[] inv) {
        int f = sp.features();
        float[] x = sp.x();
        for (int s = 0; s < sp.n(); s++) {
            int base = s * f;
            for (int k = 0; k < f; k++) x[base + k] = (x[base + k] - mean[k]) * inv[k];
        }
    }

    @Override
    public String toString() { return label(); }
}
