package org.g2g.cli;

import org.g2g.testutil.Synthetic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Every user mistake ends in exit code 2 and one line naming the input, without a stack trace. */
class CliErrorsTest {
    @TempDir static Path tmp;
    static Path data;

    @BeforeAll
    static void makeData() throws Exception {
        data = Synthetic.fashionLike(tmp.resolve("data"), 300, 100, 8, 10, 1);
    }

    record Result(int code, String err) {}

    static Result run(String... args) {
        StringWriter sw = new StringWriter();
        int code = Main.run(new PrintWriter(sw, true), args);
        return new Result(code, sw.toString());
    }

    static void assertUserError(Result r, String... mustContain) {
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "one line: " + r.err());
        assertTrue(lines[0].startsWith("error: "), r.err());
        for (String s : mustContain) assertTrue(r.err().contains(s), "'" + s + "' in: " + r.err());
    }

    String[] base(String... more) {
        String[] b = {"train", "--data", data.toString(), "--hidden", "16", "--layers", "1", "--groups", "4",
                "--epochs", "1", "--device", "cpu"};
        String[] all = new String[b.length + more.length];
        System.arraycopy(b, 0, all, 0, b.length);
        System.arraycopy(more, 0, all, b.length, more.length);
        return all;
    }

    @Test
    void unknownOptionsAndBadValues() {
        assertUserError(run("train", "--no-such-option"), "no-such-option");
        assertUserError(run(base("--p-inter", "1.5")), "--p-inter", "outside");
        assertUserError(run(base("--p-intra", "-0.1")), "--p-intra");
        assertUserError(run(base("--groups", "5")), "--groups", "divide");
        assertUserError(run(base("--epochs", "0")), "--epochs", "must be at least 1");
        assertUserError(run(base("--prune-fraction", "1")), "--prune-fraction");
        assertUserError(run(base("--prune-fraction", "0")), "--prune-fraction");
        assertUserError(run(base("--lr", "abc")), "--lr", "not a valid number");
        assertUserError(run(base("--grouping", "diagonal")), "--grouping");
        assertUserError(run(base("--device", "tpu")), "--device");
        assertUserError(run(base("--precision", "fp16")), "--precision");
        // no TF32 on the CPU: refused, not silently computed in fp32 (and no run directory is left)
        assertUserError(run(base("--precision", "tf32")), "--precision tf32", "CPU");
        assertUserError(run(base("--set", "weight-decai=0")), "weight-decai", "did you mean 'weight-decay'");
        assertUserError(run(base("--set", "lr")), "--set");
    }

    @Test
    void configFiles() throws Exception {
        Path yaml = tmp.resolve("c.yaml");
        Files.writeString(yaml, "hidden: 16\nlayers: 1\nbogus-key: 3\n");
        assertUserError(run("train", "--config", yaml.toString()), "bogus-key");
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, "hidden: [1, 2\n");
        assertUserError(run("train", "--config", bad.toString()), bad.toString(), "cannot parse");
        assertUserError(run("train", "--config", tmp.resolve("missing.yaml").toString()), "missing.yaml", "not found");
        Path typed = tmp.resolve("t.json");
        Files.writeString(typed, "{\"hidden\": \"wide\"}");
        assertUserError(run("train", "--config", typed.toString()), "--hidden");
    }

    @Test
    void dataProblemsNameTheFile() throws Exception {
        assertUserError(run("train", "--data", tmp.resolve("nowhere").toString(), "--device", "cpu",
                "--out", tmp.resolve("no-run").toString()), "nowhere");
        assertFalse(Files.exists(tmp.resolve("no-run")), "no run directory for a run that could not start");
        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        for (String f : new String[]{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
            Files.copy(data.resolve(f), broken.resolve(f));
        }
        Files.write(broken.resolve("train-labels-idx1-ubyte.gz"), new byte[]{0x1f, (byte) 0x8b, 1, 2, 3});
        assertUserError(run(base("--data", broken.toString())), "train-labels-idx1-ubyte.gz");
    }

    @Test
    void unwritableOutputDirectory() throws Exception {
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        assertUserError(run(base("--out", file.resolve("run").toString())), "output directory", "not writable");
    }

    @Test
    void resumeMismatchAndSuccessPath() {
        Path out = tmp.resolve("run1");
        assertEquals(0, run(base("--out", out.toString())).code());
        assertUserError(run("train", "--resume", out.toString(), "--lr", "0.5"), "differs", "lr", "--force");
        assertEquals(0, run("train", "--resume", out.toString(), "--lr", "0.5", "--force", "--epochs", "2").code());
        assertUserError(run("train", "--resume", tmp.resolve("none").toString()), "none");
        assertEquals(0, run("eval", "--run", out.toString()).code());
        assertUserError(run("eval", "--run", tmp.resolve("nope").toString()), "nope");
    }

    @Test
    void debugShowsTheStackTrace() {
        Result r = run(base("--p-inter", "2", "--debug"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("at org.g2g"), r.err());
    }
}
