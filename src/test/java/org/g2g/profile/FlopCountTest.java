package org.g2g.profile;

import org.g2g.backend.cpu.ReferenceBackend;
import org.g2g.config.RunConfig;
import org.g2g.model.Flops;
import org.g2g.model.Mask;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** FLOP counts of small layers against values worked out by hand (a multiply-add = 2 FLOPs). */
class FlopCountTest {
    @Test void flopsOfHandMadeMasks() {
        // layer 0: 2 x 3 with 4 active edges; layer 1: dense 1 x 2
        Mask a = new Mask(2, 3, new boolean[]{true, false, true, true, true, false}, null, null);
        Mask b = Mask.dense(1, 2);
        List<Mask> m = List.of(a, b);
        assertEquals(2 * (4 + 2), Flops.forward(m));
        assertEquals(2 * (6 + 2), Flops.forwardDense(m));
        // first layer: forward + weight gradient (its input gradient is data); others add the input gradient
        assertEquals(2 * 4 * 2 + 2 * 2 * 3, Flops.train(m));
        assertEquals(2 * 6 * 2 + 2 * 2 * 3, Flops.trainDense(m));
    }

    static RunConfig tiny(String model, int hidden, int groups) {
        return RunConfig.builder().setAll(Map.of("encoder", "none", "model", model, "hidden", hidden, "layers", 1, "groups", groups,
                "p-intra", 1.0, "p-inter", 0.0, "batch", 8, "device", "cpu")).build();
    }

    static Profiler.Options quick(List<String> models) {
        return new Profiler.Options(1, 2, 1, 1, models, false, 1, 32, 8, 0.01);
    }

    @Test void profileCountsFlopsPerStepFromActiveEdges() {
        // g2g 784-8-10, 4 groups, p_intra 1, p_inter 0: each hidden unit sees its group's 196 inputs
        RunConfig c = tiny("g2g", 8, 4);
        ProfileReport r = Profiler.run(c, quick(List.of("g2g", "dense")), new ReferenceBackend(), silent());
        ProfileReport.ModelProfile g = r.models().get(0), d = r.models().get(1);
        long hidden = 8 * 196, out = 10 * 8, denseHidden = 8 * 784;
        assertEquals(8 * (2 * hidden * 2 + 2 * out * 3), g.flopsPerStep().active()); // 8 * 6,752
        assertEquals(8 * 6752L, g.flopsPerStep().active());
        assertEquals(8 * (2 * denseHidden * 2 + 2 * out * 3), g.flopsPerStep().denseEquivalent()); // 8 * 25,568
        assertEquals(8 * 25568L, d.flopsPerStep().active());
        assertEquals(d.flopsPerStep().active(), d.flopsPerStep().denseEquivalent());
        // the reference backend's plan is the shared grouped layout: the diagonal blocks are full
        // (no holes), so it executes exactly the active edges
        assertEquals(8 * 6752L, g.flopsPerStep().executed());
        assertEquals(8 * (2 * hidden + 2 * out), g.flopsPerStep().forward()); // the forward pass's share of active
        assertEquals(0.25, g.density(), 1e-12);
        ProfileReport.Ratio q = r.ratios().get(0);
        assertEquals(6752.0 / 25568.0, q.flopsPerStep(), 1e-12);
    }

    static PrintStream silent() { return new PrintStream(new ByteArrayOutputStream()); }
}
