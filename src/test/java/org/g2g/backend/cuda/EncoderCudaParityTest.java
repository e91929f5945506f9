package org.g2g.backend.cuda;

import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.backend.Tensor;
import org.g2g.backend.cpu.CpuBackend;
import org.g2g.backend.cpu.ReferenceBackend;
import org.g2g.model.Architecture;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;
import org.g2g.model.PatchEncoder;
import org.g2g.train.Augmenter;
import org.g2g.train.Network;
import org.g2g.train.Optimizer;
import org.g2g.train.PhaseTimer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The patch encoder and CIFAR augmentation on the CUDA backend (cuda-kernels/encoder.cu)
 * against the CPU (mvn test -Pgpu, or the emulated device in CI): copy_strips and crop_flip
 * bit-exact on NaN-poisoned outputs whose unwritten columns must stay NaN; and a network with
 * the encoder over 5 Adam steps on augmented batches against ReferenceBackend (loss within
 * 1e-3 relative, encoder weights within 1e-3 (1 + |w|): fp32 summation order only).
 */
@Tag("gpu")
class EncoderCudaParityTest {

    @Test
    void copyStripsAndCropFlipMatchTheCpu() {
        GpuTests.requireGpu();
        Random r = new Random(8);
        int C = 3, H = 8, W = 6, pad = 4, batch = 37, cap = 40;
        float[] img = new float[C * H * W * cap];
        for (int k = 0; k < img.length; k++) img[k] = r.nextFloat();
        int[] pr = Augmenter.draws(3, 11, cap, new int[3 * cap]);
        PatchEncoder pe = new PatchEncoder(C, H, W, 2, 3, 5);
        int P = pe.patches(), K = pe.patchSize();
        int[] strips = new int[4 * P * K];
        for (int p = 0, s = 0; p < P; p++) {
            for (int k = 0; k < K; k++, s++) {
                strips[4 * s] = pe.pixel(p, k);
                strips[4 * s + 2] = k;
                strips[4 * s + 3] = p;
            }
        }
        float[] nan = new float[Math.max(C * H * W * cap, K * P * cap)];
        Arrays.fill(nan, Float.NaN);
        float[][] crop = new float[2][], cols = new float[2][];
        Backend[] bes = {new CpuBackend(2), Cuda.open(0, "custom")};
        for (int k = 0; k < 2; k++) {
            Backend be = bes[k];
            try (be; Tensor src = be.tensor(C * H * W, cap); Tensor dst = be.tensor(C * H * W, cap);
                 Tensor col = be.tensor(K, P * cap); IntVector p = be.ints(3 * cap); IntVector s = be.ints(strips.length)) {
                be.write(src, img);
                be.write(dst, Arrays.copyOf(nan, C * H * W * cap));
                be.write(col, Arrays.copyOf(nan, K * P * cap));
                be.write(p, pr);
                be.write(s, strips);
                be.cropFlip(src, dst, p, C, H, W, pad, batch);
                be.copyStrips(dst, col, s, P * K, batch);
                crop[k] = be.read(dst);
                cols[k] = be.read(col);
            }
        }
        assertArrayEquals(crop[0], crop[1], 0f, "crop_flip");
        assertArrayEquals(cols[0], cols[1], 0f, "copy_strips");
        for (int row = 0; row < C * H * W; row++) {
            assertFalse(Float.isNaN(crop[1][row * cap + batch - 1]), "written");
            assertTrue(Float.isNaN(crop[1][row * cap + batch]), "column past the batch untouched");
        }
    }

    @Test
    void encoderNetworkTrainsLikeTheReference() {
        GpuTests.requireGpu();
        Random r = new Random(12);
        PatchEncoder pe = new PatchEncoder(3, 8, 8, 2, 2, 6);
        int batch = 29, n = 29 * 5;
        int[] widths = {pe.features(), 16, 10};
        List<Mask> masks = List.of(MaskFactory.g2g(16, 24, 4, 1.0, 0.2, Grouping.INDEX, r), Mask.dense(10, 16));
        Architecture arch = new Architecture(org.g2g.config.ModelKind.G2G, widths, masks, 0.5, pe);
        float[][][] w = Network.initWeights(arch, r);
        float[][] enc = Network.initEncoder(pe, r);
        float[] images = new float[n * pe.pixels()];
        int[] labels = new int[n], order = new int[n];
        for (int k = 0; k < n; k++) {
            labels[k] = r.nextInt(10);
            order[k] = (k * 31) % n;
            for (int f = 0; f < pe.pixels(); f++) images[k * pe.pixels() + f] = r.nextFloat() + (f % 10 == labels[k] ? 0.5f : 0);
        }
        float[][] loss = new float[2][5], encW = new float[2][];
        Backend[] bes = {new ReferenceBackend(), Cuda.open(0, "custom")};
        for (int k = 0; k < 2; k++) {
            Backend be = bes[k];
            try (be; Network net = new Network(be, widths, masks, arch, Optimizer.from(org.g2g.config.RunConfig.defaults()),
                    batch, w, new float[][]{enc[0].clone(), enc[1].clone()});
                 Tensor I = be.tensor(n, pe.pixels()); IntVector L = be.ints(n); IntVector O = be.ints(n);
                 Tensor scratch = be.tensor(pe.pixels(), batch); IntVector p = be.ints(3 * batch)) {
                be.write(I, images);
                be.write(L, labels);
                be.write(O, order);
                for (int t = 0; t < 5; t++) {
                    be.gather(I, L, O, t * batch, batch, scratch, net.labels);
                    be.write(p, Augmenter.draws(1, t + 1, batch, new int[3 * batch]));
                    be.cropFlip(scratch, net.input(), p, 3, 8, 8, Augmenter.PAD, batch);
                    net.forward(batch);
                    net.loss(batch, true);
                    net.backward(batch, new PhaseTimer(be, false));
                    net.optimizerStep(1e-2f, t + 1);
                    loss[k][t] = (float) net.takeStats()[0];
                }
                encW[k] = net.encoder.layer.denseWeights(be);
            }
        }
        for (int t = 0; t < 5; t++) assertEquals(loss[0][t], loss[1][t], 1e-3 * Math.abs(loss[0][t]), "loss at step " + t);
        for (int i = 0; i < encW[0].length; i++) {
            assertEquals(encW[0][i], encW[1][i], 1e-3 * (1 + Math.abs(encW[0][i])), "encoder weight " + i);
        }
    }
}
