package org.g2g.model;

import org.g2g.config.GroupingStrategy;
import org.g2g.config.RunConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class MaskFactoryTest {

    /** Intra-group edges all kept at p_intra = 1; inter-group count within 5 sd of Binomial(n, p'). */
    @Test
    void g2gDensityWithinBinomialBound() {
        for (Grouping g : Grouping.values()) {
            Mask m = MaskFactory.g2g(512, 384, 8, 1.0, 0.15, g, new Random(7));
            long intra = 0, inter = 0, intraSlots = 0, interSlots = 0;
            for (int o = 0; o < m.out; o++) {
                for (int i = 0; i < m.in; i++) {
                    boolean same = m.groupOut[o] == m.groupIn[i];
                    if (same) { intraSlots++; if (m.get(o, i)) intra++; } else { interSlots++; if (m.get(o, i)) inter++; }
                }
            }
            assertEquals(512L * 384 / 8, intraSlots, "intra slots for " + g);
            assertEquals(intraSlots, intra, "p_intra = 1 keeps every intra edge for " + g);
            double mean = interSlots * 0.15, sd = Math.sqrt(interSlots * 0.15 * 0.85);
            assertTrue(Math.abs(inter - mean) < 5 * sd, g + ": inter edges " + inter + " vs " + mean + " +- " + sd);
        }
    }

    @Test
    void partialIntraProbabilityIsBinomialToo() {
        Mask m = MaskFactory.g2g(256, 256, 4, 0.6, 0.05, Grouping.INDEX, new Random(3));
        long n = 256L * 256 / 4, intra = 0;
        for (int o = 0; o < 256; o++) for (int i = 0; i < 256; i++) if (o / 64 == i / 64 && m.get(o, i)) intra++;
        assertTrue(Math.abs(intra - 0.6 * n) < 5 * Math.sqrt(n * 0.24), "intra " + intra);
    }

    @Test
    void groupLabelsFollowTheStrategy() {
        Random r = new Random(1);
        int[] idx = Grouping.INDEX.labels(32, 4, r);
        int[] inter = Grouping.INTERLEAVED.labels(32, 4, r);
        int[] rnd = Grouping.RANDOM.labels(32, 4, r);
        int[] sizes = new int[4];
        boolean differsFromIndex = false;
        for (int i = 0; i < 32; i++) {
            assertEquals(i / 8, idx[i]);
            assertEquals(i % 4, inter[i]);
            sizes[rnd[i]]++;
            differsFromIndex |= rnd[i] != idx[i];
        }
        assertArrayEquals(new int[]{8, 8, 8, 8}, sizes, "random grouping keeps groups equal");
        assertTrue(differsFromIndex);
        assertEquals(Grouping.INDEX, Grouping.forLayer(GroupingStrategy.MIXER, 0));
        assertEquals(Grouping.INTERLEAVED, Grouping.forLayer(GroupingStrategy.MIXER, 1));
        assertEquals(Grouping.INDEX, Grouping.forLayer(GroupingStrategy.MIXER, 2));
    }

    @Test
    void indexGroupingMakesBlockDiagonalWithoutInterEdges() {
        Mask m = MaskFactory.g2g(64, 32, 4, 1.0, 0.0, Grouping.INDEX, new Random(2));
        for (int o = 0; o < 64; o++) for (int i = 0; i < 32; i++) assertEquals(o / 16 == i / 8, m.get(o, i));
        assertEquals(1.0, m.intraGroupShare(), 0);
        assertEquals(0.25, m.density(), 1e-12);
    }

    @Test
    void widthsNotDivisibleByGroupsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Grouping.INDEX.labels(30, 8, new Random()));
    }

    @Test
    void erdosRenyiDensity() {
        Mask m = MaskFactory.erdosRenyi(300, 400, 0.25625, new Random(5));
        double n = 120000;
        assertTrue(Math.abs(m.activeCount() - 0.25625 * n) < 5 * Math.sqrt(n * 0.25625 * 0.74375));
        assertNull(m.groupOut);
    }

    @Test
    void densityFormulasInvertEachOther() {
        double d = MaskFactory.g2gDensity(8, 1.0, 0.15);
        assertEquals(0.25625, d, 1e-12);
        assertEquals(0.15, MaskFactory.pInterForDensity(8, 1.0, d), 1e-12);
    }

    @Test
    void matchedDenseWidthHasTheG2GParameterCount() {
        RunConfig c = RunConfig.builder().set("model", "dense").set("match-params", true).build();
        int w = Architecture.matchedWidth(c, 784, 10);
        assertEquals(447, w); // notes: "about 447 wide for 784 -> 3 x 1024 -> 10 at d = 0.25625"
        Architecture dense = Architecture.build(c, 784, 10, new Random(1));
        Architecture g2g = Architecture.build(RunConfig.defaults(), 784, 10, new Random(1));
        double rel = Math.abs(dense.activeParams() - g2g.activeParams()) / (double) g2g.activeParams();
        assertTrue(rel < 0.01, "dense " + dense.activeParams() + " vs g2g " + g2g.activeParams());
    }

    @Test
    void erMatchesTheG2GDensityByDefault() {
        RunConfig er = RunConfig.defaults().with(Map.of("model", "er"));
        Architecture a = Architecture.build(er, 784, 10, new Random(1));
        assertEquals(0.25625, a.targetDensity(), 1e-12);
        assertEquals(0.25625, a.density(), 0.005);
        assertTrue(a.masks().get(3).isDense(), "output layer stays dense");
    }

    @Test
    void densityOptionSolvesPInter() {
        RunConfig c = RunConfig.defaults().with(Map.of("density", 0.5));
        assertEquals((0.5 - 1.0 / 8) / (7.0 / 8), Architecture.pInter(c), 1e-12);
    }

    @Test
    void flopsCountActiveEdges() {
        Mask a = MaskFactory.g2g(8, 6, 2, 1.0, 0.0, Grouping.INDEX, new Random(1)); // 2 blocks 4x3 = 24 edges
        Mask b = Mask.dense(3, 8);
        java.util.List<Mask> ms = java.util.List.of(a, b);
        assertEquals(2 * (24 + 24), Flops.forward(ms));
        assertEquals(2 * (48 + 24), Flops.forwardDense(ms));
        // first layer: forward + weight gradient; later layers also the input gradient
        assertEquals(2 * 24 * 2 + 2 * 24 * 3, Flops.train(ms));
    }

    @Test
    void initRescalesByActiveFanIn() {
        Mask m = MaskFactory.g2g(64, 512, 8, 1.0, 0.0, Grouping.INDEX, new Random(4)); // 64 active of 512 per row
        float[] w = Init.weights(m, true, new Random(9));
        double sq = 0;
        long n = 0;
        for (int k = 0; k < w.length; k++) {
            if (m.active[k]) { sq += w[k] * w[k]; n++; } else assertEquals(0f, w[k]);
        }
        // U(-b, b) with b = sqrt(2) sqrt(3 / 64): variance b^2 / 3 = 2 / 64
        assertEquals(2.0 / 64, sq / n, 0.1 * 2.0 / 64);
    }
}
