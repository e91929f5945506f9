package org.g2g.dst;

import org.apache.commons.math3.stat.correlation.PearsonsCorrelation;
import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
import org.g2g.backend.Tensor;
import org.g2g.backend.cpu.CpuBackend;
import org.g2g.backend.cpu.ReferenceBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The correlation product against Apache Commons Math (Pearson) and a cosine loop in double. */
class HebbianScoreTest {

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void scoresMatchIndependentStatistics(String which) {
        Random r = new Random(5);
        int out = 13, in = 21, batch = 37;
        double[][] ya = new double[out][batch], xa = new double[in][batch];
        float[] yf = new float[out * batch], xf = new float[in * batch];
        for (int o = 0; o < out; o++) for (int b = 0; b < batch; b++) { ya[o][b] = Math.max(0, r.nextGaussian()); yf[o * batch + b] = (float) ya[o][b]; }
        for (int i = 0; i < in; i++) for (int b = 0; b < batch; b++) { xa[i][b] = r.nextDouble(); xf[i * batch + b] = (float) xa[i][b]; }
        try (Backend be = which.equals("reference") ? new ReferenceBackend() : new CpuBackend(2)) {
            Tensor y = be.tensor(out, batch), x = be.tensor(in, batch), s = be.vector(out * in);
            be.write(y, yf);
            be.write(x, xf);
            be.correlation(y, x, batch, Correlation.PEARSON, s);
            float[] pearson = be.read(s);
            be.correlation(y, x, batch, Correlation.COSINE, s);
            float[] cosine = be.read(s);
            be.correlation(y, x, batch, Correlation.RAW, s);
            float[] raw = be.read(s);
            PearsonsCorrelation pc = new PearsonsCorrelation();
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    double p = pc.correlation(ya[o], xa[i]);
                    assertEquals(p, pearson[o * in + i], 1e-4, "pearson " + o + "," + i);
                    double dot = 0, ny = 0, nx = 0;
                    for (int b = 0; b < batch; b++) { dot += ya[o][b] * xa[i][b]; ny += ya[o][b] * ya[o][b]; nx += xa[i][b] * xa[i][b]; }
                    assertEquals(dot / (Math.sqrt(ny * nx) + 1e-8), cosine[o * in + i], 1e-5, "cosine");
                    assertEquals(dot, raw[o * in + i], 1e-4 * Math.max(1, Math.abs(dot)), "raw");
                }
            }
        }
    }
}
