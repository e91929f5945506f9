package org.g2g.backend.layout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.g2g.backend.layout.GroupedLayout.Block;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The shared grouped layout against the mask itself: every active edge exactly once, nothing else. */
class GroupedLayoutTest {

    static Stream<Arguments> masks() {
        Random rng = new Random(5);
        Mask moved = MaskFactory.g2g(96, 64, 4, 1.0, 0.15, Grouping.INTERLEAVED, rng);
        for (int k = 0; k < 300; k++) moved.active[rng.nextInt(moved.active.length)] ^= true;
        return Stream.of(
                Arguments.of("g2g index", MaskFactory.g2g(64, 64, 8, 1.0, 0.15, Grouping.INDEX, rng)),
                Arguments.of("g2g random", MaskFactory.g2g(40, 56, 4, 1.0, 0.3, Grouping.RANDOM, rng)),
                Arguments.of("g2g p_inter 0.9", MaskFactory.g2g(48, 32, 2, 1.0, 0.9, Grouping.RANDOM, rng)),
                Arguments.of("g2g after moves", moved),
                Arguments.of("ER 0.2", MaskFactory.erdosRenyi(30, 50, 0.2, rng)),
                Arguments.of("ER 0.8", MaskFactory.erdosRenyi(30, 50, 0.8, rng)),
                Arguments.of("dense", Mask.dense(17, 9)),
                Arguments.of("empty", new Mask(5, 7, new boolean[35], null, null)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("masks")
    void everyActiveEdgeHasOnePackedPositionAndHolesAreZero(String name, Mask m) {
        GroupedLayout l = GroupedLayout.of(m);
        int[] pos = l.packedPositions();
        Set<Integer> seen = new HashSet<>();
        long active = 0;
        for (int k = 0; k < pos.length; k++) {
            assertEquals(m.active[k], pos[k] >= 0, name + ": position of " + k);
            if (pos[k] >= 0) {
                active++;
                assertTrue(pos[k] < l.packedSize());
                assertTrue(seen.add(pos[k]), name + ": packed position used twice");
            }
        }
        assertEquals(m.activeCount(), active);
        assertEquals(active, l.activeEdges);
        int holes = l.holePos.length;
        assertEquals(l.packedSize(), active + holes, name + ": packed = active edges + holes");
        for (int h : l.holePos) assertTrue(!seen.contains(h), name + ": a hole is an edge");

        // pack then unpack is the identity on active entries; holes and off-mask entries are 0
        Random rng = new Random(1);
        float[] dense = new float[m.out * m.in];
        for (int k = 0; k < dense.length; k++) dense[k] = rng.nextFloat() + 0.5f;
        float[] packed = new float[3 + l.packedSize()];
        l.pack(dense, packed, 3);
        for (int h : l.holePos) assertEquals(0f, packed[3 + h]);
        for (int k = 0; k < dense.length; k++) if (pos[k] >= 0) assertEquals(dense[k], packed[3 + pos[k]]);
        float[] back = new float[dense.length];
        l.unpack(packed, 3, back);
        for (int k = 0; k < dense.length; k++) assertEquals(m.active[k] ? dense[k] : 0f, back[k]);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("masks")
    void blocksAreGroupPairsAtLeastAsFullAsTheThresholdAndEdgesTheRest(String name, Mask m) {
        GroupedLayout l = GroupedLayout.of(m);
        int[] rowGroup = new int[m.out], colGroup = new int[m.in];
        for (int g = 0; g < l.rowGroups(); g++) for (int r = l.rowGroupStart[g]; r < l.rowGroupStart[g + 1]; r++) rowGroup[l.rowOrder[r]] = g;
        for (int g = 0; g < l.colGroups(); g++) for (int j = l.colGroupStart[g]; j < l.colGroupStart[g + 1]; j++) colGroup[l.colOrder[j]] = g;
        // a group is one label (or everything without labels)
        for (int o = 0; o < m.out; o++) {
            if (m.groupOut != null) assertEquals(m.groupOut[l.rowOrder[l.rowGroupStart[rowGroup[o]]]], m.groupOut[o]);
        }
        long[] count = new long[l.rowGroups() * l.colGroups()];
        for (int o = 0; o < m.out; o++) for (int i = 0; i < m.in; i++) if (m.get(o, i)) count[rowGroup[o] * l.colGroups() + colGroup[i]]++;
        int off = 0;
        for (int t = 0; t < count.length; t++) {
            int rg = t / l.colGroups(), cg = t % l.colGroups();
            long area = (long) (l.rowGroupStart[rg + 1] - l.rowGroupStart[rg]) * (l.colGroupStart[cg + 1] - l.colGroupStart[cg]);
            boolean dense = count[t] > 0 && count[t] >= GroupedLayout.DENSE_BLOCK_MIN_FILL * area;
            assertEquals(dense, l.blockAt[t] >= 0, name + ": block " + t);
            if (dense) {
                Block b = l.blocks.get(l.blockAt[t]);
                assertEquals(off, b.offset());
                assertEquals(area, b.area());
                off += b.area();
            }
        }
        assertEquals(off, l.edgeBase);
        // CSR columns ascend within a row; CSC lists the same edges, rows ascending within a column
        for (int r = 0; r < m.out; r++) {
            for (int e = l.rowPtr[r]; e < l.rowPtr[r + 1]; e++) {
                assertTrue(m.get(l.rowOrder[r], l.edgeCol[e]));
                assertEquals(l.colOrder[l.edgeColPos[e]], l.edgeCol[e]);
                assertTrue(l.blockAt[rowGroup[l.rowOrder[r]] * l.colGroups() + colGroup[l.edgeCol[e]]] < 0);
                if (e > l.rowPtr[r]) assertTrue(l.edgeColPos[e] > l.edgeColPos[e - 1]);
            }
        }
        int[] fromCsc = new int[l.edges];
        for (int j = 0; j < m.in; j++) {
            for (int q = l.colPtr[j]; q < l.colPtr[j + 1]; q++) {
                int e = l.cscEdge[q];
                fromCsc[e]++;
                assertEquals(j, l.edgeColPos[e]);
                assertTrue(e >= l.rowPtr[l.cscRowPos[q]] && e < l.rowPtr[l.cscRowPos[q] + 1]);
                assertEquals(l.rowOrder[l.cscRowPos[q]], l.cscRow[q]);
                if (q > l.colPtr[j]) assertTrue(l.cscRowPos[q] > l.cscRowPos[q - 1]);
            }
        }
        for (int c : fromCsc) assertEquals(1, c);
    }

    @Test
    void g2gDiagonalBlocksAreDenseAndTheDenseModelIsOneBlock() {
        Random rng = new Random(3);
        GroupedLayout g = GroupedLayout.of(MaskFactory.g2g(1024, 784, 8, 1.0, 0.15, Grouping.INTERLEAVED, rng));
        assertEquals(8, g.blocks.size());
        for (Block b : g.blocks) assertEquals(b.rowGroup(), b.colGroup());
        assertEquals(8 * 128 * 98, g.edgeBase);
        GroupedLayout d = GroupedLayout.of(Mask.dense(1024, 1024));
        assertEquals(1, d.blocks.size());
        assertEquals(0, d.edges);
        assertArrayEquals(new int[] {0, 1024}, d.rowGroupStart);
        assertEquals(0, GroupedLayout.of(MaskFactory.erdosRenyi(64, 64, 0.1, rng)).blocks.size());
    }
}
