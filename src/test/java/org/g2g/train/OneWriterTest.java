package org.g2g.train;

import org.g2g.UserError;
import org.g2g.config.RunConfig;
import org.g2g.io.WriterLock;
import org.g2g.testutil.Synthetic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A run directory has one writer for the whole run; a new run never writes over foreign files; a run that cannot start leaves nothing. */
class OneWriterTest {
    @TempDir static Path tmp;
    static Path data;
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @BeforeAll
    static void makeData() throws Exception {
        data = Synthetic.fashionLike(tmp.resolve("data"), 200, 50, 6, 10, 3);
    }

    static RunConfig small(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(Map.of("data", data.toString(), "hidden", 16, "layers", 1, "groups", 4,
                "epochs", 2, "batch", 50, "device", "cpu", "threads", 1));
        m.put("encoder", "none"); // 6x6 images: no 4x4 patch grid
        m.putAll(extra);
        return RunConfig.defaults().with(m);
    }

    @Test
    void aSecondRunOnTheSameDirectoryIsRefusedWhileTheFirstTrains() throws Exception {
        Path dir = tmp.resolve("contended");
        CountDownLatch inside = new CountDownLatch(1), release = new CountDownLatch(1);
        TrainListener hold = new TrainListener() {
            @Override public void onStep(long step, int epoch, int batch, int batches, double sps) {
                inside.countDown();
                try { release.await(30, TimeUnit.SECONDS); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            }
        };
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            Future<RunSummary> first = ex.submit(() -> TrainRun.execute(small(Map.of()), dir, false, false, QUIET, hold));
            assertTrue(inside.await(60, TimeUnit.SECONDS), "first run started");
            String before = Files.readString(dir.resolve("config.json"));
            // a fresh run, a resume, and a forced resume with other options: all refused, naming the holder
            for (boolean resume : new boolean[]{false, true}) {
                UserError e = assertThrows(UserError.class, () -> TrainRun.execute(small(Map.of("lr", 0.5)), dir, resume,
                        true, QUIET, TrainListener.NONE));
                assertTrue(e.getMessage().contains("in use by pid " + ProcessHandle.current().pid()), e.getMessage());
            }
            release.countDown();
            assertEquals("finished", first.get(120, TimeUnit.SECONDS).status());
            assertEquals(before, Files.readString(dir.resolve("config.json")), "the refused runs wrote nothing");
            assertEquals(3, Files.readAllLines(dir.resolve("metrics.csv")).size());
            assertFalse(Files.exists(dir.resolve(WriterLock.FILE)), "lock file removed at the end");
        } finally {
            release.countDown();
            ex.shutdownNow();
        }
    }

    @Test
    void aNewRunGoesOnlyIntoANewOrEmptyDirectory() throws Exception {
        Path home = tmp.resolve("someones-home");
        Files.createDirectories(home);
        Files.writeString(home.resolve("thesis.tex"), "precious");
        UserError e = assertThrows(UserError.class, () -> TrainRun.execute(small(Map.of()), home, false, false, QUIET,
                TrainListener.NONE));
        assertTrue(e.getMessage().contains("not empty") && e.getMessage().contains("thesis.tex"), e.getMessage());
        try (var s = Files.list(home)) {
            assertEquals(1, s.count(), "nothing written there");
        }
        assertThrows(UserError.class, () -> TrainRun.execute(small(Map.of()), Path.of(""), false, false, QUIET, TrainListener.NONE));
        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty);
        assertEquals("finished", TrainRun.execute(small(Map.of("epochs", 1)), empty, false, false, QUIET, TrainListener.NONE).status());
    }

    @Test
    void aRunThatCannotStartLeavesNoDirectory() {
        Path d1 = tmp.resolve("no-such-device");
        assertThrows(UserError.class, () -> TrainRun.execute(small(Map.of("device", "cuda:99")), d1, false, false, QUIET,
                TrainListener.NONE));
        assertFalse(Files.exists(d1));
        Path d2 = tmp.resolve("no-data");
        assertThrows(UserError.class, () -> TrainRun.execute(small(Map.of("data", tmp.resolve("nowhere").toString())), d2,
                false, false, QUIET, TrainListener.NONE));
        assertFalse(Files.exists(d2));
    }

    @Test
    void aResumeRemovesTheTempFilesOfAKilledWrite() throws Exception {
        Path dir = tmp.resolve("killed");
        TrainRun.execute(small(Map.of("epochs", 1)), dir, false, false, QUIET, TrainListener.NONE);
        Path stale = Files.createTempFile(dir, ".checkpoint.safetensors.", ".tmp");
        Files.write(stale, new byte[1 << 20]);
        TrainRun.execute(small(Map.of("epochs", 2)), dir, true, true, QUIET, TrainListener.NONE);
        assertFalse(Files.exists(stale));
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }
}
