package org.g2g.model;

import java.util.Random;

/**
 * Kaiming-uniform initialisation with the per-row fan-in rescale (inferred from the paper's
 * follow-up): a row with a active inputs of n draws from U(-b, b), b = gain * sqrt(3 / a),
 * i.e. the dense bound sqrt(3 gain^2 / n) times sqrt(n / a). This keeps each unit's
 * pre-activation variance independent of how sparse its row is. Gain sqrt(2) for ReLU
 * layers, 1 for the linear output layer. Biases ~ U(-1/sqrt(a), 1/sqrt(a)) as in PyTorch.
 */
public final class Init {
    private Init() {}

    public static float[] weights(Mask m, boolean relu, Random rng) {
        float[] w = new float[m.out * m.in];
        double gain = relu ? Math.sqrt(2.0) : 1.0;
        for (int o = 0; o < m.out; o++) {
            int a = m.rowCount(o);
            if (a == 0) continue;
            double bound = gain * Math.sqrt(3.0 / a);
            int base = o * m.in;
            for (int i = 0; i < m.in; i++) {
                if (m.active[base + i]) w[base + i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
            }
        }
        return w;
    }

    public static float[] biases(Mask m, Random rng) {
        float[] b = new float[m.out];
        for (int o = 0; o < m.out; o++) {
            int a = Math.max(1, m.rowCount(o));
            double bound = 1.0 / Math.sqrt(a);
            b[o] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return b;
    }
}
