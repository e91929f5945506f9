package org.g2g.train;

import org.g2g.config.OptimizerKind;
import org.g2g.config.ModelKind;
import org.g2g.backend.Backend;
import org.g2g.backend.cpu.CpuBackend;
import org.g2g.backend.cpu.ReferenceBackend;
import org.g2g.model.Architecture;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Back-propagation through sparse layers, ReLU and softmax cross-entropy against central
 * finite differences of the loss, computed in double from the dense weights: an independent
 * forward pass in plain Java, not the backend's.
 */
class GradientCheckTest {

    static Backend backend(String name) {
        return name.equals("reference") ? new ReferenceBackend() : new CpuBackend(2);
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"reference,7", "cpu,7", "reference,40", "cpu,40"})
    void backpropMatchesFiniteDifferences(String which, int batch) {
        // batch 40 exceeds every width: kernels that index over the batch must not assume otherwise
        Random r = new Random(11);
        int[] widths = {12, 10, 8, 5};
        List<Mask> masks = List.of(
                MaskFactory.g2g(10, 12, 2, 1.0, 0.3, Grouping.INDEX, r),
                MaskFactory.g2g(8, 10, 2, 0.8, 0.2, Grouping.INTERLEAVED, r),
                Mask.dense(5, 8));
        Architecture arch = new Architecture(ModelKind.G2G, widths, masks, 0.5);
        float[][][] w = Network.initWeights(arch, r);
        double[] x = new double[widths[0] * batch];
        for (int k = 0; k < x.length; k++) x[k] = r.nextDouble();
        int[] y = new int[batch];
        for (int b = 0; b < batch; b++) y[b] = r.nextInt(5);

        float[][] gW = new float[3][];
        float[][] gB = new float[3][];
        try (Backend be = backend(which);
             Network net = new Network(be, widths, masks, arch, new Optimizer(OptimizerKind.SGD, 0, 0, 0, 0, false, 0), batch, w)) {
            float[] xt = new float[x.length];
            for (int k = 0; k < x.length; k++) xt[k] = (float) x[k];
            be.write(net.act[0], xt);
            be.write(net.labels, y);
            net.forward(batch);
            net.loss(batch, true);
            net.backward(batch, new PhaseTimer(be, false));
            for (int l = 0; l < 3; l++) {
                gW[l] = be.unpack(net.layers[l].plan, net.layers[l].gw);
                gB[l] = be.read(net.layers[l].gb);
            }
            double lossFromBackend = net.takeStats()[0] / batch;
            assertEquals(loss(w, masks, widths, x, y, batch), lossFromBackend, 1e-5);
        }
        double h = 1e-3, maxErr = 0;
        for (int l = 0; l < 3; l++) {
            Mask m = masks.get(l);
            for (int e = 0; e < m.active.length; e++) {
                if (!m.active[e]) {
                    assertEquals(0f, gW[l][e], "gradient off the mask, layer " + l);
                    continue;
                }
                double num = numeric(w, l, 0, e, h, masks, widths, x, y, batch);
                maxErr = Math.max(maxErr, Math.abs(num - gW[l][e]) / (Math.abs(num) + 1e-3));
            }
            for (int o = 0; o < m.out; o++) {
                double num = numeric(w, l, 1, o, h, masks, widths, x, y, batch);
                maxErr = Math.max(maxErr, Math.abs(num - gB[l][o]) / (Math.abs(num) + 1e-3));
            }
        }
        assertTrue(maxErr < 2e-3, "max relative gradient error " + maxErr);
    }

    private static double numeric(float[][][] w, int l, int which, int idx, double h, List<Mask> masks, int[] widths,
                                  double[] x, int[] y, int batch) {
        float orig = w[l][which][idx];
        w[l][which][idx] = (float) (orig + h);
        double plus = loss(w, masks, widths, x, y, batch);
        w[l][which][idx] = (float) (orig - h);
        double minus = loss(w, masks, widths, x, y, batch);
        w[l][which][idx] = orig;
        double actualH = ((double) (float) (orig + h) - (double) (float) (orig - h)) / 2;
        return (plus - minus) / (2 * actualH);
    }

    /** Mean cross-entropy in double precision; x is feature-major (features x batch). */
    static double loss(float[][][] w, List<Mask> masks, int[] widths, double[] x, int[] y, int batch) {
        double[] a = x;
        for (int l = 0; l < masks.size(); l++) {
            Mask m = masks.get(l);
            double[] z = new double[m.out * batch];
            for (int o = 0; o < m.out; o++) {
                for (int b = 0; b < batch; b++) {
                    double s = w[l][1][o];
                    for (int i = 0; i < m.in; i++) if (m.get(o, i)) s += w[l][0][o * m.in + i] * a[i * batch + b];
                    z[o * batch + b] = l < masks.size() - 1 ? Math.max(0, s) : s;
                }
            }
            a = z;
        }
        int c = widths[widths.length - 1];
        double total = 0;
        for (int b = 0; b < batch; b++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) max = Math.max(max, a[k * batch + b]);
            double sum = 0;
            for (int k = 0; k < c; k++) sum += Math.exp(a[k * batch + b] - max);
            total += Math.log(sum) + max - a[y[b] * batch + b];
        }
        return total / batch;
    }
}
