package org.g2g.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.g2g.io.SafeTensors;
import org.g2g.io.WriterLock;
import org.g2g.testutil.Synthetic;
import org.g2g.train.ModelMetadata;
import org.g2g.train.RunRecorder;
import org.g2g.train.RunSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A plain `g2g train` says how it was made (config.json's "run" block), keeps its console in
 * log.txt, and its summary's seconds add up over a resume.
 */
class RunIdentityTest {
    @TempDir Path tmp;

    private List<String> args(Path data, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--encoder", "none", "--data", data.toString(), "--hidden", "32",
                "--layers", "2", "--groups", "4", "--batch", "64", "--device", "cpu", "--threads", "2"));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void configLogAndSecondsOfATrainAndItsResume() throws Exception {
        Path data = Synthetic.fashionLike(tmp.resolve("data"), 1200, 300, 10, 10, 3);
        Path run = tmp.resolve("run dir"); // a space: the recorded command must quote it
        Instant before = Instant.now();
        SelfDescribingModelTest.Out o = SelfDescribingModelTest.main(args(data, "--epochs", "2", "--out", run.toString())
                .toArray(new String[0]));
        Instant after = Instant.now();
        assertEquals(0, o.code(), o.err() + o.out());

        JsonNode cfg = RunRecorder.JSON.readTree(run.resolve("config.json").toFile());
        JsonNode id = cfg.get("run");
        assertNotNull(id, "config.json has no run block");
        assertEquals("g2g " + String.join(" ", args(data, "--epochs", "2", "--out", "'" + run + "'")), id.get("command").asText());
        assertEquals(WriterLock.host(), id.get("host").asText());
        Instant started = Instant.parse(id.get("started").asText());
        assertFalse(started.isBefore(before.minusMillis(1)) || started.isAfter(after), started + " not within the call");
        assertTrue(id.has("git_dirty"), "git_dirty is recorded (null when not run from a checkout)");
        assertEquals(0, id.get("resumes").size());
        // the hash is the model's: SHA-256 of the config text stored in model.safetensors
        SafeTensors.Contents model = SafeTensors.read(run.resolve("model.safetensors"));
        assertEquals(ModelMetadata.sha256(model.metadata.get("config")), id.get("config_sha256").asText());
        assertEquals(model.metadata.get("config_sha256"), id.get("config_sha256").asText());

        String log1 = Files.readString(run.resolve("log.txt"));
        assertTrue(log1.startsWith("== "), log1);
        for (String want : List.of("config: ", "run directory: ", "data: ", "epoch 1/2", "epoch 2/2", "result: test accuracy")) {
            assertTrue(log1.contains(want), "log.txt lacks '" + want + "':\n" + log1);
        }
        assertEquals(o.out().lines().filter(l -> l.startsWith("epoch ")).toList(),
                log1.lines().filter(l -> l.startsWith("epoch ")).toList(), "log.txt holds what the console showed");
        RunSummary s1 = RunSummary.read(run.resolve("summary.json"));

        long t0 = System.nanoTime();
        SelfDescribingModelTest.Out r = SelfDescribingModelTest.main("train", "--resume", run.toString(), "--epochs", "3", "--force");
        double call2 = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.code(), r.err() + r.out());
        JsonNode id2 = RunRecorder.JSON.readTree(run.resolve("config.json").toFile()).get("run");
        assertEquals(id.get("started").asText(), id2.get("started").asText(), "the first session's start is kept");
        assertEquals(id.get("command").asText(), id2.get("command").asText());
        assertEquals(1, id2.get("resumes").size());
        assertTrue(id2.get("resumes").get(0).get("command").asText().contains("--resume"), id2.toString());
        assertNotEquals(id.get("config_sha256").asText(), id2.get("config_sha256").asText(), "--epochs changed the config");
        SafeTensors.Contents model2 = SafeTensors.read(run.resolve("model.safetensors"));
        assertEquals(model2.metadata.get("config_sha256"), id2.get("config_sha256").asText());

        String log2 = Files.readString(run.resolve("log.txt"));
        assertTrue(log2.startsWith(log1), "the resume appends to log.txt");
        assertTrue(log2.substring(log1.length()).contains("epoch 3/3"), log2);

        RunSummary s2 = RunSummary.read(run.resolve("summary.json"));
        // the second process ran call2 seconds at most: more than that is the first one's time carried over
        assertTrue(s2.seconds() > call2, "seconds " + s2.seconds() + " not above the resume's own " + call2);
        assertTrue(s2.seconds() >= s1.seconds() * 0.99, s2.seconds() + " < " + s1.seconds());
        assertTrue(s2.trainSeconds() > s1.trainSeconds(), s2.trainSeconds() + " <= " + s1.trainSeconds());

        // a run's config.json serves as --config for a new run (its bookkeeping keys are skipped)
        Path again = tmp.resolve("again");
        SelfDescribingModelTest.Out a = SelfDescribingModelTest.main("train", "--config", run.resolve("config.json").toString(),
                "--epochs", "1", "--out", again.toString());
        assertEquals(0, a.code(), a.err() + a.out());
    }

    @Test
    void aRunThatCannotStartLeavesNoLog() {
        Path run = tmp.resolve("nodata");
        SelfDescribingModelTest.Out o = SelfDescribingModelTest.main("train", "--data", tmp.resolve("missing").toString(),
                "--out", run.toString());
        assertEquals(2, o.code(), o.err());
        assertFalse(Files.exists(run), "no directory for a run that could not start");
    }
}
