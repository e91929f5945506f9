package org.g2g.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;

/** Masks for layout and parity tests: G2G shapes, after simulated DST updates, and odd ones. */
final class TestMasks {
    private TestMasks() {}

    /** A DST update as the trainer does it: prune k random active edges, regrow k random inactive ones. */
    static Mask dstMoves(Mask m, double fraction, Random rng) {
        Mask n = m.copy();
        List<Integer> act = new ArrayList<>(), ina = new ArrayList<>();
        for (int k = 0; k < n.active.length; k++) (n.active[k] ? act : ina).add(k);
        int moves = (int) Math.min(Math.round(fraction * act.size()), Math.min(act.size(), ina.size()));
        java.util.Collections.shuffle(act, rng);
        java.util.Collections.shuffle(ina, rng);
        for (int k = 0; k < moves; k++) {
            n.active[act.get(k)] = false;
            n.active[ina.get(k)] = true;
        }
        return n;
    }

    static Mask afterDst(Mask m, int updates, Random rng) {
        for (int u = 0; u < updates; u++) m = dstMoves(m, 0.1, rng);
        return m;
    }

    /** Named masks covering every layout path; shapes deliberately not multiples of 64. */
    static List<Object[]> cases(long seed) {
        Random rng = new Random(seed);
        List<Object[]> c = new ArrayList<>();
        c.add(new Object[] {"g2g index 8 groups", MaskFactory.g2g(200, 136, 8, 1.0, 0.15, Grouping.INDEX, rng)});
        c.add(new Object[] {"g2g interleaved 4 groups", MaskFactory.g2g(100, 180, 4, 1.0, 0.2, Grouping.INTERLEAVED, rng)});
        c.add(new Object[] {"g2g random 5 groups, p_intra 0.8", MaskFactory.g2g(75, 95, 5, 0.8, 0.1, Grouping.RANDOM, rng)});
        c.add(new Object[] {"g2g after 3 DST updates", afterDst(MaskFactory.g2g(136, 200, 8, 1.0, 0.15, Grouping.INDEX, rng), 3, rng)});
        c.add(new Object[] {"g2g mixer after 5 DST updates", afterDst(MaskFactory.g2g(96, 72, 8, 1.0, 0.1, Grouping.INTERLEAVED, rng), 5, rng)});
        c.add(new Object[] {"g2g p_inter 0 (blocks only)", MaskFactory.g2g(70, 70, 7, 1.0, 0.0, Grouping.INDEX, rng)});
        c.add(new Object[] {"g2g sparse blocks -> csr", MaskFactory.g2g(64, 48, 4, 0.1, 0.05, Grouping.INDEX, rng)});
        c.add(new Object[] {"erdos-renyi 0.3", MaskFactory.erdosRenyi(77, 130, 0.3, rng)});
        c.add(new Object[] {"erdos-renyi 0.05 (empty rows)", MaskFactory.erdosRenyi(33, 41, 0.05, rng)});
        c.add(new Object[] {"dense head", Mask.dense(10, 150)});
        c.add(new Object[] {"dense odd", Mask.dense(67, 129)});
        return c;
    }
}
