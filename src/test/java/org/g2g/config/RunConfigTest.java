package org.g2g.config;

import org.g2g.model.Architecture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RunConfigTest {
    @TempDir Path tmp;

    @Test
    void defaultsAreTheDocumentedRecipe() {
        RunConfig c = RunConfig.defaults();
        assertEquals("g2g", c.modelKind().spelling());
        assertEquals(1024, c.hidden());
        assertEquals(3, c.layers());
        assertEquals(8, c.groups());
        assertEquals(0.15, c.pInter());
        assertEquals("mixer", c.groupingStrategy().spelling());
        assertEquals(1000, c.updateEvery());
        assertEquals(0.025, c.pruneFraction());
        assertEquals(256, c.batch());
        assertEquals(1e-3, c.lr());
    }

    @Test
    void layersResolveInOrderAndYamlJsonAgree() throws Exception {
        Path y = tmp.resolve("c.yaml");
        Files.writeString(y, "lr: 0.01\np_inter: 0.2\ngrouping: index\nmatch-params: false\n");
        Path j = tmp.resolve("c.json");
        Files.writeString(j, "{\"lr\": 0.01, \"p-inter\": 0.2, \"grouping\": \"index\"}");
        RunConfig a = RunConfig.builder().file(y).build();
        RunConfig b = RunConfig.builder().file(j).build();
        assertEquals(a, b);
        assertEquals(0.2, a.pInter());
        RunConfig c = RunConfig.builder().file(y).setAssignment("lr=3e-4").build();
        assertEquals(3e-4, c.lr());
    }

    @Test
    void differencesIgnoreExecutionOnlyKeys() {
        RunConfig a = RunConfig.defaults();
        RunConfig b = a.with(Map.of("device", "cpu", "threads", 1, "lr", 0.5));
        assertEquals(1, a.differences(b).size());
        assertTrue(a.differences(b).get(0).startsWith("lr"));
    }

    @Test
    void validationNamesTheKey() {
        ConfigError e = assertThrows(ConfigError.class, () -> RunConfig.defaults().with(Map.of("hidden", 1001)));
        assertTrue(e.getMessage().contains("--groups"), e.getMessage());
        // the p' rule lives with the model; the CLI and sweep grids apply it as a config enters
        e = assertThrows(ConfigError.class,
                () -> Architecture.requireReachable(RunConfig.defaults().with(Map.of("density", 0.05))));
        assertTrue(e.getMessage().contains("--density"), e.getMessage());
        e = assertThrows(ConfigError.class, () -> RunConfig.defaults().with(Map.of("match-params", true)));
        assertTrue(e.getMessage().contains("--match-params"), e.getMessage());
        e = assertThrows(ConfigError.class, () -> RunConfig.defaults().with(Map.of("batch", 2.5)));
        assertTrue(e.getMessage().contains("--batch"), e.getMessage());
    }
}
