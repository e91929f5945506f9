package org.g2g.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.g2g.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/** `g2g bench --tables layer` on the CPU: one row per batch, the default model's density, ratio = dense / sparse. */
class SparseLayerTableTest {
    @Test
    void rowsRatiosAndTargets() {
        try (CpuBackend be = new CpuBackend(1)) {
            List<SparseLayerTable.Row> rows = SparseLayerTable.run(be, 128, List.of(16, 4096), 0.01, 3);
            assertEquals(2, rows.size());
            for (SparseLayerTable.Row r : rows) {
                // 8 groups of 16 with p_inter 0.15: 1/8 + 7/8 * 0.15 = 0.256 expected
                assertTrue(Math.abs(r.density() - 0.256) < 0.03, "density " + r.density());
                assertTrue(r.sparseMs() > 0 && r.denseMs() > 0);
                assertEquals(r.denseMs() / r.sparseMs(), r.speedup(), 1e-12);
            }
            assertEquals(1.5, rows.get(0).target());
            assertEquals(2.0, rows.get(1).target());
            String text = SparseLayerTable.text(rows, be);
            assertTrue(text.contains(">= 2.0x"), text);
            assertFalse(text.contains("EMULATOR"), "the CPU is not the emulated device: " + text);
            assertFalse(text.contains("met"), "GPU targets are not judged on the CPU: " + text);
            assertEquals(3, SparseLayerTable.csv(rows, be).lines().count());
        }
    }
}
