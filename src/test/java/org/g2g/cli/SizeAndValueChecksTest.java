package org.g2g.cli;

import org.g2g.UserError;
import org.g2g.config.RunConfig;
import org.g2g.testutil.Synthetic;
import org.g2g.train.MemoryEstimate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Sizes are checked in 64-bit arithmetic before anything is allocated; config values are never narrowed or null. */
class SizeAndValueChecksTest {
    @TempDir static Path tmp;
    static Path data;

    @BeforeAll
    static void makeData() throws Exception {
        data = Synthetic.fashionLike(tmp.resolve("data"), 200, 50, 8, 10, 1);
    }

    record Out(int code, String err, String out) {}

    static Out g2g(String... args) {
        StringWriter sw = new StringWriter();
        java.io.ByteArrayOutputStream bo = new java.io.ByteArrayOutputStream();
        PrintStream old = System.out;
        try {
            System.setOut(new PrintStream(bo, true));
            int code = Main.run(new PrintWriter(sw, true), args);
            return new Out(code, sw.toString(), bo.toString());
        } finally {
            System.setOut(old);
        }
    }

    static String[] train(String out, String... more) {
        String[] b = {"train", "--data", data.toString(), "--device", "cpu", "--threads", "1", "--out",
                tmp.resolve(out).toString()};
        String[] all = java.util.Arrays.copyOf(b, b.length + more.length);
        System.arraycopy(more, 0, all, b.length, more.length);
        return all;
    }

    static void assertRefused(Out o, String... parts) {
        assertEquals(2, o.code(), o.err());
        assertEquals(1, o.err().strip().split("\n").length, o.err());
        for (String p : parts) assertTrue(o.err().contains(p), "'" + p + "' in " + o.err());
    }

    @Test
    void modelsTooLargeAreRefusedBeforeAllocating() {
        for (String h : new String[]{"50000", "65536"}) {
            long t0 = System.nanoTime();
            Out o = g2g(train("h" + h, "--hidden", h, "--groups", "8"));
            assertRefused(o, "more than one Java array holds", "--hidden");
            assertTrue((System.nanoTime() - t0) / 1e9 < 20, "refused without building the model");
            assertFalse(Files.exists(tmp.resolve("h" + h)), "no run directory");
        }
        Out o = g2g(train("h30000", "--hidden", "30000", "--groups", "8"));
        assertRefused(o, "of Java heap, more than the", "limit", "G2G_HEAP");
    }

    @Test
    void aBatchLargerThanTheDataIsTheWholeSet() throws Exception {
        Out o = g2g(train("bigbatch", "--hidden", "16", "--layers", "1", "--groups", "4", "--batch", "1048576", "--epochs", "1"));
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("every step trains on the whole training set"), o.out());
        assertEquals(2, Files.readAllLines(tmp.resolve("bigbatch").resolve("metrics.csv")).size());
        assertEquals(0, g2g("eval", "--run", tmp.resolve("bigbatch").toString()).code());
        // with data that large, the batch's activations would not fit one array: refused with the figure
        RunConfig c = RunConfig.defaults().with(Map.of("hidden", 4096, "batch", 1048576));
        UserError e = assertThrows(UserError.class, () -> MemoryEstimate.check(c, 784, 10, 2_000_000, 0, 10000, false));
        assertTrue(e.getMessage().contains("4,294,967,296 activations") && e.getMessage().contains("--batch"), e.getMessage());
        assertEquals(200, MemoryEstimate.batchCapacity(c, 200, 0, 50));
    }

    @Test
    void theEstimateGrowsWithTheModelAndIsRefusedAgainstTheHeap() {
        RunConfig small = RunConfig.defaults().with(Map.of("hidden", 1024));
        RunConfig wide = RunConfig.defaults().with(Map.of("hidden", 4096));
        long a = MemoryEstimate.check(small, 784, 10, 60000, 0, 10000, false).hostBytes();
        long b = MemoryEstimate.check(wide, 784, 10, 60000, 0, 10000, false).hostBytes();
        // the two 4096^2 hidden layers dominate: at least 16x the weights of 1024^2 ones, minus the shared data copy
        assertTrue(b > 8 * (a - 4L * 784 * 70000), a + " vs " + b);
        assertThrows(UserError.class, () -> MemoryEstimate.refuseIfTooLarge(new MemoryEstimate.Need(Long.MAX_VALUE / 2, 0, 1), -1));
        UserError d = assertThrows(UserError.class, () -> MemoryEstimate.refuseIfTooLarge(new MemoryEstimate.Need(0, 5L << 30, 1), 1L << 30));
        assertTrue(d.getMessage().contains("5.0 GiB of device memory"), d.getMessage());
    }

    @Test
    void configValuesAreNeverNarrowedNorNull() throws Exception {
        String[][] cases = {
                {"epochs: 4294967297", "--epochs", "out of range"},
                {"epochs: null", "--epochs", "null"},
                {"update-every: 2.5", "--update-every", "not a whole number"},
                {"seed: 1.0e+30", "--seed", "out of range"},
                {"lr: null", "--lr", "null"},
                {"model: null", "--model", "null"},
                {"batch: 99999999999999999999999", "--batch", "out of range"},
                {"{\"epochs\": 4294967297}", "--epochs", "out of range"},
                {"{\"val-split\": -4294967295}", "--val-split", "out of range"},
        };
        int k = 0;
        for (String[] c : cases) {
            Path f = tmp.resolve("c" + (k++) + (c[0].startsWith("{") ? ".json" : ".yaml"));
            Files.writeString(f, c[0] + "\n");
            assertRefused(g2g(train("cfg" + k, "--config", f.toString(), "--hidden", "16", "--layers", "1", "--groups", "4")), c[1], c[2]);
        }
        assertRefused(g2g(train("set", "--set", "epochs=4294967297")), "--epochs", "out of range");
        assertRefused(g2g(train("opt", "--epochs", "4294967297")), "--epochs", "out of range");
        // null is "unset" for options without a default
        Path ok = tmp.resolve("ok.yaml");
        Files.writeString(ok, "density: null\nhidden: 16\nlayers: 1\ngroups: 4\nepochs: 1.0\n");
        assertEquals(0, g2g(train("okcfg", "--config", ok.toString())).code());
    }
}
