package org.g2g.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.g2g.UserError;
import org.g2g.config.RunConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `g2g profile --concurrent K` on the CPU (the emulated device runs it in GpuProfileConcurrentTest):
 * the levels measured, and the invariants of the figures: all runs' samples over the time from the
 * common start to the last end can never exceed the sum of the runs' own rates, and K = 1 is the
 * unit of the speed-up.
 */
class ConcurrentRunsTest {
    @Test void levelsArePowersOfTwoUpToK() {
        assertEquals(List.of(1), ConcurrentRuns.levels(1));
        assertEquals(List.of(1, 2, 4, 8), ConcurrentRuns.levels(8));
        assertEquals(List.of(1, 2, 4, 5), ConcurrentRuns.levels(5));
        assertThrows(UserError.class, () -> ConcurrentRuns.levels(0));
    }

    @Test void aggregateThroughputOfConcurrentRuns(@TempDir Path dir) throws Exception {
        RunConfig c = FlopCountTest.tiny("g2g", 8, 4).with(java.util.Map.of("threads", 2));
        ProfileReport.Concurrency k = Profiler.concurrent(c, FlopCountTest.quick(List.of("g2g")), "g2g", 3, FlopCountTest.silent());
        assertEquals("cpu", k.device());
        assertFalse(k.emulated());
        assertEquals(List.of(1, 2, 3), k.levels().stream().map(ProfileReport.ConcurrentLevel::runs).toList());
        assertEquals(1.0, k.levels().get(0).speedupOverOne(), 1e-12);
        assertEquals(k.levels().get(0).samplesPerSecond(), k.levels().get(0).perRunSamplesPerSecond(), 1e-9 * k.levels().get(0).samplesPerSecond());
        for (ProfileReport.ConcurrentLevel l : k.levels()) {
            assertTrue(l.samplesPerSecond() > 0 && Double.isFinite(l.samplesPerSecond()), l.toString());
            assertTrue(l.samplesPerSecond() <= l.runs() * l.perRunSamplesPerSecond() * (1 + 1e-9), "aggregate above the runs' sum: " + l);
            assertEquals(l.samplesPerSecond() / k.levels().get(0).samplesPerSecond(), l.speedupOverOne(), 1e-9);
        }
        // in the JSON as documented
        ProfileReport r = Profiler.run(c, FlopCountTest.quick(List.of("g2g")), FlopCountTest.silent()).withConcurrency(k);
        Path f = dir.resolve("p.json");
        r.write(f);
        JsonNode j = ProfileReport.JSON.readTree(f.toFile()).get("concurrency");
        assertEquals(3, j.get("levels").size());
        assertEquals(2, j.get("levels").get(1).get("runs").asInt());
        assertTrue(j.get("levels").get(2).has("speedup_over_one"));
        assertTrue(ProfileTable.text(r).contains("K=3"), ProfileTable.text(r));
    }
}
