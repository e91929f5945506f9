package org.g2g.data;

import org.g2g.UserError;

import java.util.Locale;

/**
 * Optional feature standardisation, x' = (x - mean) / std. Statistics come from the images
 * trained on only and are applied to every split, so no validation or test information leaks
 * into training. Applied in place: the loader owns the arrays and a copy of Fashion-MNIST
 * train would cost another 190 MB.
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

    /**
     * Fitted statistics: x' = (x - mean[k]) / std[k] per feature k (GLOBAL repeats one value).
     * std is the divisor actually used: 1 for a constant feature. Stored in model.safetensors
     * so a model can be fed outside g2g.
     */
    public record Stats(Standardise kind, float[] mean, float[] std) {
        /** Standardises s in place; a float division, so numpy's (x - mean) / std gives the same bits. */
        public void apply(Split s) {
            if (kind == NONE || s == null) return;
            int f = s.features();
            float[] x = s.x();
            for (int n = 0; n < s.n(); n++) {
                int base = n * f;
                for (int k = 0; k < f; k++) x[base + k] = (x[base + k] - mean[k]) / std[k];
            }
        }
    }

    /**
     * The statistics of train (the images actually trained on: after --limit-train and
     * --val-split, so held-out images do not leak into them). Population std (divide by n).
     */
    public Stats fit(Split tr) {
        int f = tr.features();
        if (this == NONE) return new Stats(NONE, new float[0], new float[0]);
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
        float[] m = new float[f], sd = new float[f];
        for (int k = 0; k < f; k++) {
            int j = this == GLOBAL ? 0 : k;
            double std = Math.sqrt(var[j] / count);
            m[k] = (float) mean[j];
            sd[k] = (float) (std < MIN_STD ? 1.0 : std);
        }
        return new Stats(this, m, sd);
    }

    /** Standardises d.train() and d.test() in place with the statistics of d.train(). */
    public Stats apply(Dataset d) {
        Stats st = fit(d.train());
        st.apply(d.train());
        st.apply(d.test());
        return st;
    }

    @Override
    public String toString() { return label(); }
}
