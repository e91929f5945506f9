package org.g2g.train;

import org.g2g.cli.Main;
import org.g2g.config.RunConfig;
import org.g2g.io.SafeTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Whole runs with the patch encoder on generated 12 x 12 images: learning, resume, the model file, eval. */
class EncoderRunTest {
    @TempDir static Path tmp;
    static Path data;

    @BeforeAll
    static void makeData() throws Exception {
        data = SmallRuns.data(tmp);
    }

    /** SmallRuns' config with the patch encoder (8 channels); extra wins. */
    static RunConfig small(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(Map.of("encoder", "patch", "patch-channels", 8));
        m.putAll(extra);
        return SmallRuns.config(data, m);
    }

    static RunSummary train(RunConfig c, Path dir) { return SmallRuns.train(c, dir); }

    @Test
    void everyModelKindLearnsWithTheEncoderAndCountsIt() {
        RunSummary s = train(small(Map.of("lr", 0.005, "epochs", 4)), tmp.resolve("g2g"));
        assertTrue(s.testAccuracy() >= 0.9, "test accuracy " + s.testAccuracy());
        List<Integer> widths = s.widths();
        assertEquals(16 * 8, ((Number) widths.get(0)).intValue(), "4x4 patches x 8 channels");
        long encParams = 8L * 9 + 8;
        RunSummary.FlopsPerSample flops = s.flopsPerSample();
        RunSummary none = train(small(Map.of("encoder", "none", "epochs", 1)), tmp.resolve("none"));
        assertTrue(flops.forward() >= 2L * 8 * 9 * 16);
        assertTrue(s.denseParams() > encParams);
        assertNotEquals(none.denseParams(), s.denseParams());
        for (String kind : List.of("dense", "er")) {
            RunSummary k = train(small(Map.of("model", kind, "epochs", 2, "lr", 0.005)), tmp.resolve(kind));
            assertTrue(k.testAccuracy() > 0.5, kind + " " + k.testAccuracy());
            assertEquals(128, ((Number) k.widths().get(0)).intValue());
        }
        SafeTensors.Contents m = SafeTensors.read(tmp.resolve("g2g").resolve("model.safetensors"));
        assertArrayEquals(new long[]{8, 1, 3, 3}, m.tensors.get("encoder.weight").shape());
        assertArrayEquals(new long[]{8}, m.tensors.get("encoder.bias").shape());
        assertEquals("4x4", m.metadata.get("encoder.patches"));
        assertEquals("1x12x12", m.metadata.get("encoder.image_shape"));
    }

    @Test
    void resumedEncoderRunEndsLikeAnUninterruptedOne() throws Exception {
        RunConfig c = small(Map.of("epochs", 3));
        train(c, tmp.resolve("whole"));
        SmallRuns.assertResumesLike(c, tmp.resolve("whole"), tmp.resolve("part"), 30);
    }

    @Test
    void evalRebuildsTheEncoderFromTheModelFile() throws Exception {
        Path dir = tmp.resolve("eval");
        RunSummary s = train(small(Map.of("epochs", 1)), dir);
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code;
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(buf, true));
            code = Main.run(new PrintWriter(err, true), "eval", "--run", dir.toString());
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code, err.toString());
        String expect = String.format(Locale.ROOT, "test accuracy %.2f%%", 100 * s.testAccuracy());
        assertTrue(buf.toString().contains(expect), expect + " in " + buf);
    }

    @Test
    void runsWrittenBeforeTheEncoderOptionExistedReadAsFlattenedAndUnaugmented() throws Exception {
        Path dir = tmp.resolve("old");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), "{\"dataset\": \"cifar10\", \"epochs\": 2}");
        RunConfig c = RunRecorder.readConfig(dir);
        assertEquals(org.g2g.config.EncoderKind.NONE, c.encoderKind());
        assertEquals(org.g2g.config.Augmentation.NONE, c.augment());
    }
}
