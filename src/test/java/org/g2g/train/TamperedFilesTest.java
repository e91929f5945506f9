package org.g2g.train;

import org.g2g.UserError;
import org.g2g.cli.Main;
import org.g2g.config.RunConfig;
import org.g2g.io.Damage;
import org.g2g.testutil.Synthetic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every file g2g reads back is untrusted: each damage of model.safetensors and
 * checkpoint.safetensors, generated over every tensor x {dtype, shape, offsets, length}, every
 * metadata field and the header, ends in one line naming the file (exit 2), never a stack trace,
 * never a result; and a resume compares the options with those its checkpoint was trained with.
 */
class TamperedFilesTest {
    @TempDir static Path tmp;
    static Path data, run;
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    static RunConfig config(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(Map.of("data", data.toString(), "hidden", 16, "layers", 2, "groups", 4,
                "epochs", 2, "batch", 50, "update-every", 3, "device", "cpu", "threads", 1, "regrow", "hebbian"));
        m.put("encoder", "none"); // 6 x 6 images: the default 4 x 4 patch grid does not divide them
        m.putAll(extra);
        return RunConfig.defaults().with(m);
    }

    @BeforeAll
    static void train() throws Exception {
        data = Synthetic.fashionLike(tmp.resolve("data"), 200, 50, 6, 10, 5);
        run = tmp.resolve("orig");
        TrainRun.execute(config(Map.of()), run, false, false, QUIET, TrainListener.NONE);
        Files.delete(run.resolve("summary.json")); // as if killed after the last checkpoint: a resume reads it
    }

    static int cases;

    /** A fresh copy of the run with one file replaced. */
    static Path copyWith(String name, String file, byte[] bytes) throws Exception {
        String n = name.replaceAll("[^A-Za-z0-9]+", "_");
        Path d = tmp.resolve("case-" + n.substring(0, Math.min(40, n.length())) + "-" + (++cases));
        Files.createDirectories(d);
        try (var s = Files.list(run)) {
            for (Path p : s.toList()) Files.copy(p, d.resolve(p.getFileName()));
        }
        Files.write(d.resolve(file), bytes);
        return d;
    }

    @Test
    void everyDamageOfTheModelFileIsOneLineFromEval() throws Exception {
        Damage.Parts p = Damage.read(run.resolve("model.safetensors"));
        List<Damage.Case> cases = new ArrayList<>(Damage.everyTensor(p));
        cases.addAll(Damage.header(p));
        cases.addAll(Damage.everyMetadata(p, Damage.map("depth", List.of("abc", "-1", "0", "1", "3", "99999999999", "2.0", ""))));
        cases.add(Damage.value(p, "layers.0.weight", 3, Float.NaN));
        cases.add(Damage.value(p, "layers.1.bias", 0, Float.POSITIVE_INFINITY));
        cases.add(Damage.byteValue(p, "layers.0.mask", 0, 2));
        cases.add(Damage.byteValue(p, "layers.0.group_out", 3, 0x80)); // a negative group label
        assertTrue(cases.size() > 150, "cases: " + cases.size());
        Path d = copyWith("eval", "model.safetensors", p.bytes());
        assertEquals(0, eval(d).code, "the undamaged copy evaluates");
        List<String> failures = new ArrayList<>();
        for (Damage.Case k : cases) {
            Files.write(d.resolve("model.safetensors"), k.bytes());
            Out o = eval(d);
            if (o.code != 2 || o.err.strip().split("\n").length != 1 || !o.err.contains("model.safetensors")) {
                failures.add(k.name() + " -> exit " + o.code + ": " + o.err.strip());
            }
        }
        assertEquals(List.of(), failures, failures.size() + " of " + cases.size() + " damages not refused");
    }

    @Test
    void everyDamageOfTheCheckpointIsRefusedByResume() throws Exception {
        Damage.Parts p = Damage.read(run.resolve("checkpoint.safetensors"));
        String metrics = p.metadata().get("metrics").asText();
        String[] rows = metrics.split("\n");
        List<Damage.Case> cases = new ArrayList<>(Damage.everyTensor(p));
        cases.addAll(Damage.header(p));
        cases.addAll(Damage.everyMetadata(p, Damage.map(
                "format", List.of("g2g-checkpoint-0", ""),
                "depth", List.of("abc", "1", "3", "-2"),
                "epochs_done", List.of("abc", "-1", "1", "3", "2.5", "4294967298"),
                "step", List.of("abc", "-5", "7", "1e3"),
                "train_seconds", List.of("NaN", "abc", "-1", "Infinity"),
                "metrics", List.of("garbage", rows[0], metrics + "\n" + rows[1], rows[1] + "\n" + rows[0],
                        rows[0] + "\n" + rows[1].replaceFirst(",[^,]*,", ",NaN,"), rows[0] + "\n" + rows[1] + ",extra"),
                "dst", List.of("x", "1,2", "99999,0,1,1,0,0.5,0,0.25"),
                "config", List.of("{", "[]", "{\"lr\": -1}", "{\"lr\": \"abc\"}", "null"),
                "hebbian.0.fresh", List.of("maybe"))));
        cases.add(Damage.value(p, "optim.0.weight.0", 5, Float.NaN));
        cases.add(Damage.value(p, "hebbian.0", 1, Float.NEGATIVE_INFINITY));
        // consistent rows and epoch counter, but a step counter of another epoch count
        Damage.Parts q = p.copy();
        q.metadata().put("epochs_done", "1");
        q.metadata().put("metrics", rows[0]);
        cases.add(new Damage.Case("epoch 1 with the step counter of epoch 2", q.bytes()));
        assertTrue(cases.size() > 300, "cases: " + cases.size());
        List<String> failures = new ArrayList<>();
        for (Damage.Case k : cases) {
            Path d = copyWith(k.name(), "checkpoint.safetensors", k.bytes());
            try {
                TrainRun.execute(config(Map.of()), d, true, false, QUIET, TrainListener.NONE);
                failures.add(k.name() + " -> resumed");
            } catch (UserError e) {
                if (!e.getMessage().contains("checkpoint.safetensors") || e.getMessage().contains("\n")) {
                    failures.add(k.name() + " -> " + e.getMessage());
                }
                if (Files.exists(d.resolve("summary.json"))) failures.add(k.name() + " -> wrote a summary");
            } catch (RuntimeException e) {
                failures.add(k.name() + " -> " + e);
            }
        }
        assertEquals(List.of(), failures, failures.size() + " of " + cases.size() + " damages not refused");
        // and the undamaged copy resumes to the end
        Path ok = copyWith("intact", "checkpoint.safetensors", p.bytes());
        assertTrue(TrainRun.execute(config(Map.of()), ok, true, false, QUIET, TrainListener.NONE).finished());
    }

    @Test
    void resumeComparesWithTheConfigTheCheckpointWasTrainedWith() throws Exception {
        Path d = copyWith("edited", "config.json", Files.readAllBytes(run.resolve("config.json")));
        String cfg = Files.readString(d.resolve("config.json"));
        Files.writeString(d.resolve("config.json"), cfg.replace("\"lr\" : 0.001", "\"lr\" : 0.5"));
        assertNotEquals(cfg, Files.readString(d.resolve("config.json")));
        RunConfig edited = RunRecorder.readConfig(d); // what TrainCommand builds a resume from
        UserError e = assertThrows(UserError.class, () -> TrainRun.execute(edited, d, true, false, QUIET, TrainListener.NONE));
        assertTrue(e.getMessage().contains("lr: 0.001 -> 0.5") && e.getMessage().contains("config.json was changed"), e.getMessage());
        // a command-line change is compared the same way; --force accepts it and the checkpoint then carries it
        UserError e2 = assertThrows(UserError.class, () -> TrainRun.execute(config(Map.of("epochs", 3, "lr", 0.002)), d, true,
                false, QUIET, TrainListener.NONE));
        assertTrue(e2.getMessage().contains("epochs: 2 -> 3"), e2.getMessage());
        TrainRun.execute(config(Map.of("epochs", 3, "lr", 0.002)), d, true, true, QUIET, TrainListener.NONE);
        assertEquals(4, Files.readAllLines(d.resolve("metrics.csv")).size(), "one row per epoch, none repeated");
        var saved = org.g2g.io.SafeTensors.read(d.resolve("checkpoint.safetensors"));
        assertEquals(0.002, Checkpoint.config(saved, d.resolve("checkpoint.safetensors")).lr());
    }

    @Test
    void aDamagedSummaryDoesNotBlockAResume() throws Exception {
        for (String junk : new String[]{"{\"status\": ", "[]", "", "{\"status\": \"finished\"}\n}"}) {
            Path d = copyWith("summary", "summary.json", junk.getBytes());
            assertTrue(TrainRun.execute(config(Map.of()), d, true, false, QUIET, TrainListener.NONE).finished());
            assertTrue(RunSummary.read(d.resolve("summary.json")).finished(), "rewritten");
        }
    }

    record Out(int code, String err) {}

    static Out eval(Path d) {
        StringWriter sw = new StringWriter();
        PrintStream old = System.out;
        try {
            System.setOut(QUIET);
            int code = Main.run(new PrintWriter(sw, true), "eval", "--run", d.toString(), "--device", "cpu");
            return new Out(code, sw.toString());
        } finally {
            System.setOut(old);
        }
    }
}
