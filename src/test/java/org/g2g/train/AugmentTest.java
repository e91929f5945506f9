package org.g2g.train;

import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.backend.Tensor;
import org.g2g.backend.cpu.CpuBackend;
import org.g2g.backend.cpu.ReferenceBackend;
import org.g2g.config.Augmentation;
import org.g2g.config.RunConfig;
import org.g2g.testutil.Synthetic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Crop-and-flip against a reference that pads each image with zeros, crops it and mirrors it
 * as 3-d arrays; the host-round-trip defaults of Backend (what a device without its own
 * kernel runs) against the same; and whole CIFAR-format runs: augmentation changes training,
 * draws cover every offset and both flips, and a resumed run ends identically.
 */
class AugmentTest {
    @TempDir static Path tmp;
    static Path data;

    @BeforeAll
    static void makeData() throws Exception {
        data = Synthetic.cifarLike(tmp.resolve("cifar"), 60, 100, 3);
    }

    /** A Backend whose cropFlip and copyStrips are the interface's host-round-trip defaults. */
    static Backend defaults(Backend inner) {
        InvocationHandler h = (proxy, m, args) -> {
            if (m.isDefault() && (m.getName().equals("cropFlip") || m.getName().equals("copyStrips"))) {
                return InvocationHandler.invokeDefault(proxy, m, args);
            }
            try {
                return m.invoke(inner, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, h);
    }

    static float[] reference(float[] img, int[] pr, int C, int H, int W, int pad, int batch) {
        float[] out = new float[img.length];
        for (int b = 0; b < batch; b++) {
            float[][][] padded = new float[C][H + 2 * pad][W + 2 * pad];
            for (int c = 0; c < C; c++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) padded[c][y + pad][x + pad] = img[((c * H + y) * W + x) * batch + b];
            for (int c = 0; c < C; c++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) {
                        float v = padded[c][y + pr[3 * b]][x + pr[3 * b + 1]];
                        int xo = pr[3 * b + 2] == 1 ? W - 1 - x : x;
                        out[((c * H + y) * W + xo) * batch + b] = v;
                    }
        }
        return out;
    }

    @Test
    void cropFlipMatchesPadCropMirrorOnEveryBackend() {
        int C = 3, H = 6, W = 5, pad = 2, batch = 37;
        Random r = new Random(3);
        float[] img = new float[C * H * W * batch];
        for (int k = 0; k < img.length; k++) img[k] = 1 + r.nextFloat();
        int[] pr = new int[3 * batch];
        for (int b = 0; b < batch; b++) {
            pr[3 * b] = r.nextInt(2 * pad + 1);
            pr[3 * b + 1] = r.nextInt(2 * pad + 1);
            pr[3 * b + 2] = r.nextInt(2);
        }
        float[] want = reference(img, pr, C, H, W, pad, batch);
        for (Backend be : new Backend[]{new CpuBackend(2), new ReferenceBackend(), defaults(new ReferenceBackend())}) {
            try (be; Tensor src = be.tensor(C * H * W, batch); Tensor dst = be.tensor(C * H * W, batch);
                 IntVector p = be.ints(3 * batch)) {
                be.write(src, img);
                be.write(p, pr);
                be.cropFlip(src, dst, p, C, H, W, pad, batch);
                assertArrayEquals(want, be.read(dst), 0f, be.name());
            }
        }
    }

    @Test
    void hostDefaultOfCopyStripsMatchesTheCpuBackend() {
        Random r = new Random(4);
        int[] strips = {0, 1, 2, 0, 3, 0, 0, 2, 1, 2, 3, 1};
        float[] x = new float[4 * 12];
        for (int k = 0; k < x.length; k++) x[k] = r.nextFloat();
        float[][] got = new float[2][];
        Backend[] bes = {new CpuBackend(2), defaults(new ReferenceBackend())};
        for (int k = 0; k < 2; k++) {
            Backend be = bes[k];
            try (be; Tensor src = be.tensor(4, 12); Tensor dst = be.tensor(4, 12); IntVector s = be.ints(strips.length)) {
                be.write(src, x);
                be.write(s, strips);
                be.copyStrips(src, dst, s, 3, 4);
                got[k] = be.read(dst);
            }
        }
        assertArrayEquals(got[0], got[1], 0f);
        // strip 0: src row 0 cols 4..7 -> dst row 2 cols 0..3
        for (int b = 0; b < 4; b++) assertEquals(x[4 + b], got[0][2 * 12 + b], 0f);
    }

    @Test
    void drawsCoverEveryOffsetAndBothFlipsAndDependOnlyOnSeedAndStep() {
        int[] a = Augmenter.draws(1, 17, 500, new int[1500]);
        assertArrayEquals(a, Augmenter.draws(1, 17, 500, new int[1500]));
        Set<Integer> oy = new HashSet<>(), ox = new HashSet<>();
        int flips = 0;
        for (int b = 0; b < 500; b++) { oy.add(a[3 * b]); ox.add(a[3 * b + 1]); flips += a[3 * b + 2]; }
        assertEquals(9, oy.size());
        assertEquals(9, ox.size());
        assertTrue(flips > 200 && flips < 300, "flips " + flips);
        assertFalse(java.util.Arrays.equals(a, Augmenter.draws(1, 18, 500, new int[1500])));
    }

    static RunConfig small(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(Map.of("data", data.toString(), "dataset", "cifar10", "hidden", 32,
                "layers", 2, "groups", 4, "epochs", 2, "batch", 64, "update-every", 5, "device", "cpu", "threads", 2));
        m.putAll(extra);
        return RunConfig.defaults().with(m);
    }

    @Test
    void augmentedCifarRunsResumeIdenticallyAndDifferFromUnaugmented() throws Exception {
        assertEquals(Augmentation.CROP_FLIP, small(Map.of()).augment(), "auto on CIFAR");
        assertEquals(Augmentation.NONE, RunConfig.defaults().augment(), "auto on Fashion-MNIST");
        for (String enc : new String[]{"none", "patch"}) {
            RunConfig c = small(Map.of("encoder", enc, "patch-channels", 8));
            Path whole = tmp.resolve("whole-" + enc), part = tmp.resolve("part-" + enc);
            SmallRuns.train(c, whole);
            // 300 / 64 = 5 steps an epoch: die in epoch 2
            SmallRuns.assertResumesLike(c, whole, part, 7);
            Path plain = tmp.resolve("plain-" + enc);
            SmallRuns.train(c.with(Map.of("augment", "none")), plain);
            assertNotEquals(SmallRuns.numbers(whole), SmallRuns.numbers(plain));
        }
    }
}
