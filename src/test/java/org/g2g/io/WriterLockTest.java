package org.g2g.io;

import org.g2g.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** One writer per directory, across threads and processes; the refusal names the holder; a dead holder holds nothing. */
class WriterLockTest {
    @TempDir Path tmp;

    @Test
    void secondWriterInThisProcessIsRefusedWithTheHolderNamed() {
        Path d = tmp.resolve("run");
        try (WriterLock a = WriterLock.acquire(d, "first")) {
            UserError e = assertThrows(UserError.class, () -> WriterLock.acquire(d, "second"));
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
            assertTrue(e.getMessage().contains("host " + WriterLock.host()), e.getMessage());
            assertTrue(e.getMessage().contains("started 20"), e.getMessage());
            assertTrue(e.getMessage().contains("(first)"), e.getMessage());
            assertFalse(e.getMessage().contains("["), "no token in the message: " + e.getMessage());
        }
        // released: the next writer gets it, and the created-but-unused directory was removed on release
        assertFalse(Files.exists(d));
        try (WriterLock b = WriterLock.acquire(d, "third")) {
            assertTrue(Files.isDirectory(d));
        }
    }

    @Test
    void anotherProcessHoldsItUntilItDies() throws Exception {
        Path d = tmp.resolve("shared");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), LockHolder.class.getName(), d.toString())
                .redirectErrorStream(true).start();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
            assertEquals("locked", r.readLine());
            UserError e = assertThrows(UserError.class, () -> WriterLock.acquire(d, "parent"));
            assertTrue(e.getMessage().contains("pid " + p.pid()), e.getMessage());
            assertTrue(e.getMessage().contains("lock test"), e.getMessage());
        } finally {
            p.destroyForcibly(); // SIGKILL: no finally block runs in the child, the OS drops its lock
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        }
        try (WriterLock l = WriterLock.acquire(d, "after the holder died")) {
            assertTrue(Files.readString(d.resolve(WriterLock.FILE)).contains("after the holder died"));
        }
    }

    @Test
    void unusableDirectoriesAreRefused() throws Exception {
        assertThrows(UserError.class, () -> WriterLock.acquire(Path.of(""), "x"));
        Path f = tmp.resolve("file");
        Files.writeString(f, "x");
        UserError e = assertThrows(UserError.class, () -> WriterLock.acquire(f, "x"));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
        assertThrows(UserError.class, () -> WriterLock.acquire(f.resolve("below"), "x"));
    }

    @Test
    void tempFilesOfAKilledWriteAreRemovedByTheNextHolderOnly() throws Exception {
        Path d = tmp.resolve("run");
        Files.createDirectories(d);
        // what AtomicFiles.write leaves when killed between create and rename
        List<Path> ours = List.of(Files.createTempFile(d, ".checkpoint.safetensors.", ".tmp"),
                Files.createTempFile(d, ".metrics.csv.", ".tmp"), Files.createTempFile(d, ".write-test", ".tmp"));
        for (Path p : ours) Files.write(p, new byte[1 << 16]);
        List<Path> notOurs = List.of(d.resolve(".claim." + java.util.UUID.randomUUID() + ".tmp"), d.resolve("notes.tmp"),
                d.resolve("metrics.csv"));
        for (Path p : notOurs) Files.writeString(p, "keep");
        for (Path p : ours) assertTrue(AtomicFiles.isTemp(p.getFileName().toString()), p.toString());
        for (Path p : notOurs) assertFalse(AtomicFiles.isTemp(p.getFileName().toString()), p.toString());
        try (WriterLock l = WriterLock.acquire(d, "x")) {
            assertEquals(3, l.removeStaleTemps());
        }
        for (Path p : ours) assertFalse(Files.exists(p), p.toString());
        for (Path p : notOurs) assertTrue(Files.exists(p), p.toString());
    }
}
