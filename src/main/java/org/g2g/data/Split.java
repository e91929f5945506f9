package org.g2g.data;

/** n samples, sample-major: x[s * features + k] in [0,1] (or standardised), labels y[s]. */
public record Split(float[] x, int[] y, int n, int features) {
    public Split {
        if (x.length != (long) n * features || y.length != n) throw new IllegalArgumentException("split size mismatch");
    }
}
