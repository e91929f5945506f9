package org.g2g.sweep;

import org.g2g.UserError;
import org.g2g.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A bad spec is refused before any run starts, and the message names the key. */
class SpecValidationTest {
    @TempDir Path tmp;

    private static String refused(String yaml) {
        UserError e = assertThrows(UserError.class, () -> Grid.expand(SweepSpec.parse(yaml, "s.yaml"), Map.of()));
        assertTrue(e.getMessage().startsWith("sweep spec s.yaml"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void unknownKeys() {
        assertTrue(refused("grid: {seed: [1]}\nbsae: {epochs: 1}").contains("unknown key 'bsae'"));
        assertTrue(refused("base: {epoch: 1}\ngrid: {seed: [1]}").contains("'epoch' (did you mean 'epochs'?)"));
        assertTrue(refused("grid: {sead: [1, 2]}").contains("'sead'"));
        assertTrue(refused("grid: {seed: [1]}\nvariants: [{label: a, modle: dense}]").contains("variants[0]: unknown option or config key 'modle'"));
        assertTrue(refused("grid: {seed: [1]}\nvariants: [{label: a, cross: [lr]}]").contains("'lr' is not an option of the grid"));
    }

    @Test
    void emptyGrids() {
        assertTrue(refused("grid: {seed: []}").contains("grid.seed: empty list"));
        assertTrue(refused("base: {epochs: 1}").contains("empty grid"));
        assertTrue(refused("grid: {}\nvariants: []").contains("variants: empty list"));
        assertTrue(refused("grid: {seed: 1}").contains("grid.seed: expected a list"));
    }

    @Test
    void wrongTypesAndRanges() {
        assertTrue(refused("grid: {lr: [0.1, fast]}").contains("option --lr: 'fast' is not a valid number"));
        assertTrue(refused("grid: {p-inter: [0.1, 1.5]}").contains("option --p-inter: 1.5 is outside [0, 1]"));
        assertTrue(refused("base: {epochs: 2.5}\ngrid: {seed: [1]}").contains("option --epochs"));
        assertTrue(refused("grid: {seed: [1]}\nvariants: [{label: a, model: cnn}]").contains("option --model: 'cnn'"));
        assertTrue(refused("base: {epochs: [1, 2]}\ngrid: {seed: [1]}").contains("base.epochs: expected one value"));
        // an inconsistent combination found only in one point names the run
        String m = refused("base: {hidden: 24}\ngrid: {groups: [4, 5]}");
        assertTrue(m.contains("groups=5") && m.contains("option --groups"), m);
    }

    @Test
    void labelsAndBaselines() {
        assertTrue(refused("grid: {seed: [1]}\nvariants: [{label: a, model: dense}, {label: a, model: er}]").contains("used twice"));
        assertTrue(refused("grid: {seed: [1]}\nvariants: [{label: a, model: dense}]\nbaseline: b").contains("baseline: 'b'"));
        assertTrue(refused("grid: {seed: [1]}\nvariants: [{label: 'a b', model: dense}]").contains("label 'a b'"));
    }

    @Test
    void theCommandRefusesBeforeRunningAnything() throws Exception {
        Path spec = tmp.resolve("bad.yaml");
        Files.writeString(spec, "base: {epochs: 1, device: cpu}\ngrid: {seed: [1, 2], regrow: [hebbian, hebian]}\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        int rc;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            rc = Main.run("sweep", "--spec", spec.toString(), "--out", tmp.resolve("out").toString());
        } finally {
            System.setErr(old);
        }
        assertEquals(Main.USER_ERROR, rc);
        assertTrue(err.toString().contains("option --regrow: 'hebian'"), err.toString());
        assertFalse(Files.exists(tmp.resolve("out")), "nothing written for a refused spec");
    }
}
