package org.g2g.train;

import org.g2g.config.ModelKind;
import org.g2g.config.OptimizerKind;
import org.g2g.backend.Backend;
import org.g2g.config.ConfigError;
import org.g2g.config.RunConfig;
import org.g2g.model.Architecture;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;
import org.g2g.model.PatchEncoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The patch encoder against an independent convolution written as naive loops over the
 * image (channel-major pixels): its output, its place in the sparse network's input, and the
 * gradients of its weight and bias against central finite differences of the whole loss.
 */
class EncoderTest {

    /** 2 channels, 4 x 6 pixels, a 2 x 3 grid of 2 x 2 patches, 3 output channels: 18 features. */
    static final PatchEncoder PE = new PatchEncoder(2, 4, 6, 2, 3, 3);

    /** Features (patches * N x batch, feature-major) of images (pixels x batch) by direct convolution. */
    static double[] convolve(PatchEncoder pe, float[] w, float[] bias, double[] img, int batch) {
        int ph = pe.patchHeight(), pw = pe.patchWidth(), n = pe.outChannels();
        double[] f = new double[pe.features() * batch];
        for (int gy = 0; gy < pe.rows(); gy++) {
            for (int gx = 0; gx < pe.cols(); gx++) {
                int p = gy * pe.cols() + gx;
                for (int o = 0; o < n; o++) {
                    for (int b = 0; b < batch; b++) {
                        double s = bias[o];
                        for (int c = 0; c < pe.channels(); c++) {
                            for (int dy = 0; dy < ph; dy++) {
                                for (int dx = 0; dx < pw; dx++) {
                                    int pixel = (c * pe.height() + gy * ph + dy) * pe.width() + gx * pw + dx;
                                    s += w[((o * pe.channels() + c) * ph + dy) * pw + dx] * img[pixel * batch + b];
                                }
                            }
                        }
                        f[(p * n + o) * batch + b] = Math.max(0, s);
                    }
                }
            }
        }
        return f;
    }

    static double loss(float[][] enc, float[][][] w, List<Mask> masks, int[] widths, double[] img, int[] y, int batch) {
        return GradientCheckTest.loss(w, masks, widths, convolve(PE, enc[0], enc[1], img, batch), y, batch);
    }

    @ParameterizedTest
    @CsvSource({"reference,5", "cpu,5", "reference,40", "cpu,40"})
    void encoderGradientsMatchFiniteDifferences(String which, int batch) {
        Random r = new Random(5);
        int[] widths = {PE.features(), 12, 5};
        List<Mask> masks = List.of(MaskFactory.g2g(12, 18, 3, 1.0, 0.3, Grouping.INDEX, r), Mask.dense(5, 12));
        Architecture arch = new Architecture(ModelKind.G2G, widths, masks, 0.5, PE);
        float[][][] w = Network.initWeights(arch, r);
        float[][] enc = Network.initEncoder(PE, r);
        double[] img = new double[PE.pixels() * batch];
        for (int k = 0; k < img.length; k++) img[k] = r.nextDouble();
        int[] y = new int[batch];
        for (int b = 0; b < batch; b++) y[b] = r.nextInt(5);

        float[] gW, gB, gW0, features;
        try (Backend be = GradientCheckTest.backend(which);
             Network net = new Network(be, widths, masks, arch, new Optimizer(OptimizerKind.SGD, 0, 0, 0, 0, false, 0), batch, w, enc)) {
            float[] xt = new float[img.length];
            for (int k = 0; k < img.length; k++) xt[k] = (float) img[k];
            be.write(net.input(), xt);
            be.write(net.labels, y);
            net.forward(batch);
            net.loss(batch, true);
            net.backward(batch, new PhaseTimer(be, false));
            gW = be.unpack(net.encoder.layer.plan, net.encoder.layer.gw);
            gB = be.read(net.encoder.layer.gb);
            gW0 = be.unpack(net.layers[0].plan, net.layers[0].gw);
            features = be.read(net.act[0]);
            assertEquals(loss(enc, w, masks, widths, img, y, batch), net.takeStats()[0] / batch, 1e-5);
        }
        double[] ref = convolve(PE, enc[0], enc[1], img, batch);
        int cap = features.length / PE.features();
        for (int f = 0; f < PE.features(); f++) {
            for (int b = 0; b < batch; b++) {
                assertEquals(ref[f * batch + b], features[f * cap + b], 1e-5, "feature " + f + " sample " + b);
            }
        }
        // a small step: with 6 patches x 3 channels x batch ReLUs, a larger one crosses kinks
        double h = 1e-4, maxErr = 0;
        for (int e = 0; e < gW.length; e++) {
            double num = numeric(enc, 0, e, h, w, masks, widths, img, y, batch);
            maxErr = Math.max(maxErr, Math.abs(num - gW[e]) / (Math.abs(num) + 1e-3));
        }
        for (int o = 0; o < gB.length; o++) {
            double num = numeric(enc, 1, o, h, w, masks, widths, img, y, batch);
            maxErr = Math.max(maxErr, Math.abs(num - gB[o]) / (Math.abs(num) + 1e-3));
        }
        assertTrue(maxErr < 2e-3, "max relative encoder gradient error " + maxErr);
        // the first sparse layer's weight gradient sees the encoded features
        Mask m0 = masks.get(0);
        double err0 = 0;
        for (int e = 0; e < m0.active.length; e += 7) {
            if (!m0.active[e]) continue;
            float orig = w[0][0][e];
            w[0][0][e] = (float) (orig + h);
            double plus = loss(enc, w, masks, widths, img, y, batch);
            w[0][0][e] = (float) (orig - h);
            double minus = loss(enc, w, masks, widths, img, y, batch);
            w[0][0][e] = orig;
            double num = (plus - minus) / ((double) (float) (orig + h) - (double) (float) (orig - h));
            err0 = Math.max(err0, Math.abs(num - gW0[e]) / (Math.abs(num) + 1e-3));
        }
        assertTrue(err0 < 2e-3, "layer 0 gradient error " + err0);
    }

    private static double numeric(float[][] enc, int which, int idx, double h, float[][][] w, List<Mask> masks,
                                  int[] widths, double[] img, int[] y, int batch) {
        float orig = enc[which][idx];
        enc[which][idx] = (float) (orig + h);
        double plus = loss(enc, w, masks, widths, img, y, batch);
        enc[which][idx] = (float) (orig - h);
        double minus = loss(enc, w, masks, widths, img, y, batch);
        enc[which][idx] = orig;
        return (plus - minus) / ((double) (float) (orig + h) - (double) (float) (orig - h));
    }

    @Test
    void fastCpuBackendTrainsTheEncoderLikeTheReference() {
        Random r = new Random(9);
        int batch = 33;
        int[] widths = {PE.features(), 15, 4};
        List<Mask> masks = List.of(MaskFactory.g2g(15, 18, 3, 1.0, 0.2, Grouping.INTERLEAVED, r), Mask.dense(4, 15));
        Architecture arch = new Architecture(ModelKind.G2G, widths, masks, 0.5, PE);
        float[][][] w = Network.initWeights(arch, r);
        float[][] enc = Network.initEncoder(PE, r);
        float[] img = new float[PE.pixels() * batch];
        for (int k = 0; k < img.length; k++) img[k] = r.nextFloat();
        int[] y = new int[batch];
        for (int b = 0; b < batch; b++) y[b] = r.nextInt(4);
        float[][] after = new float[2][];
        String[] names = {"reference", "cpu"};
        for (int k = 0; k < 2; k++) {
            try (Backend be = GradientCheckTest.backend(names[k]);
                 Network net = new Network(be, widths, masks, arch, new Optimizer(OptimizerKind.ADAM, 0.9f, 0.999f, 1e-8f, 0, false, 1e-4f),
                         batch, w, new float[][]{enc[0].clone(), enc[1].clone()})) {
                for (int step = 1; step <= 3; step++) {
                    be.write(net.input(), img);
                    be.write(net.labels, y);
                    net.forward(batch);
                    net.loss(batch, true);
                    net.backward(batch, new PhaseTimer(be, false));
                    net.optimizerStep(1e-2f, step);
                }
                after[k] = net.encoder.layer.denseWeights(be);
            }
        }
        float maxDiff = 0;
        for (int e = 0; e < after[0].length; e++) maxDiff = Math.max(maxDiff, Math.abs(after[0][e] - after[1][e]));
        assertTrue(maxDiff < 1e-4, "encoder weights after 3 Adam steps differ by " + maxDiff);
        boolean moved = false;
        for (int e = 0; e < enc[0].length; e++) moved |= Math.abs(after[1][e] - enc[0][e]) > 1e-3;
        assertTrue(moved, "the encoder is trained");
    }

    @Test
    void shapesParamsAndErrors() {
        RunConfig c = RunConfig.defaults().with(Map.of("encoder", "patch"));
        PatchEncoder pe = PatchEncoder.of(c, 784);
        assertEquals(7, pe.patchHeight());
        assertEquals(512, pe.features());
        assertEquals(32L * 49 + 32, pe.params());
        PatchEncoder cifar = PatchEncoder.of(c.with(Map.of("dataset", "cifar10")), 3072);
        assertEquals(8, cifar.patchWidth());
        assertEquals(3 * 64, cifar.patchSize());
        Architecture a = Architecture.build(c, 784, 10, new Random(1));
        assertEquals(512, a.widths()[0]);
        assertEquals(pe.params() + paramsWithout(a), a.activeParams());
        assertEquals(pe.params() + 512L * 1024 + 2L * 1024 * 1024 + 1024 * 10 + 3 * 1024 + 10, a.denseParams());
        ConfigError e = assertThrows(ConfigError.class,
                () -> PatchEncoder.of(c.with(Map.of("patches", "3x4")), 784));
        assertTrue(e.getMessage().contains("3") && e.getMessage().contains("28") && e.getMessage().contains("--patches"),
                e.getMessage());
        ConfigError bad = assertThrows(ConfigError.class, () -> c.with(Map.of("patches", "4by4")));
        assertTrue(bad.getMessage().contains("--patches"), bad.getMessage());
        // every row of a comparison gets the encoder; matched width and ER density match the sparse part
        Architecture dense = Architecture.build(c.with(Map.of("model", "dense", "match-params", true)), 784, 10, new Random(1));
        double rel = Math.abs(dense.activeParams() - a.activeParams()) / (double) a.activeParams();
        assertTrue(rel < 0.01, "matched dense " + dense.activeParams() + " vs g2g " + a.activeParams());
        assertEquals(pe.params(), dense.activeParams() - paramsWithout(dense));
    }

    private static long paramsWithout(Architecture a) {
        long p = 0;
        for (Mask m : a.masks()) p += m.activeCount() + m.out;
        return p;
    }
}
