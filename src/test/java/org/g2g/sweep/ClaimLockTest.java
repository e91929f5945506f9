package org.g2g.sweep;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

class ClaimLockTest {
    @TempDir Path tmp;

    /** Threads released at once on the same run: exactly one gets the claim, every round. */
    @Test
    void exactlyOneOfManyRacingThreadsWins() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<String> owners = new ArrayList<>();
        for (int t = 0; t < threads; t++) owners.add(ClaimLock.newOwner());
        try {
            for (int round = 0; round < 40; round++) {
                Path run = tmp.resolve("run" + round);
                CyclicBarrier go = new CyclicBarrier(threads);
                List<Future<ClaimLock>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    String owner = owners.get(t);
                    fs.add(pool.submit(() -> { go.await(); return ClaimLock.tryAcquire(run, owner, Fixtures.FAST); }));
                }
                List<ClaimLock> won = new ArrayList<>();
                for (Future<ClaimLock> f : fs) if (f.get() != null) won.add(f.get());
                assertEquals(1, won.size(), "round " + round);
                assertEquals(won.get(0).owner, ClaimLock.read(run.resolve(ClaimLock.FILE)).owner());
                won.get(0).close();
                assertFalse(Files.exists(run.resolve(ClaimLock.FILE)), "released");
            }
        } finally {
            pool.shutdownNow();
            owners.forEach(ClaimLock::retire);
        }
    }

    /** A claim whose heartbeat stopped long ago is taken over, by exactly one of several racing threads. */
    @Test
    void aStaleClaimIsTakenOverByExactlyOne() throws Exception {
        int threads = 6;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<String> owners = new ArrayList<>();
        for (int t = 0; t < threads; t++) owners.add(ClaimLock.newOwner());
        try {
            for (int round = 0; round < 10; round++) {
                Path run = Files.createDirectories(tmp.resolve("stale" + round));
                Path f = run.resolve(ClaimLock.FILE);
                Files.writeString(f, "other-host:1234:dead\n");
                Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() - 5_000));
                CyclicBarrier go = new CyclicBarrier(threads);
                List<Future<ClaimLock>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    String owner = owners.get(t);
                    fs.add(pool.submit(() -> { go.await(); return ClaimLock.tryAcquire(run, owner, Fixtures.FAST); }));
                }
                List<ClaimLock> won = new ArrayList<>();
                for (Future<ClaimLock> x : fs) if (x.get() != null) won.add(x.get());
                assertEquals(1, won.size(), "round " + round);
                assertEquals(won.get(0).owner, ClaimLock.read(f).owner());
                won.get(0).close();
            }
        } finally {
            pool.shutdownNow();
            owners.forEach(ClaimLock::retire);
        }
    }

    @Test
    void theHeartbeatKeepsALiveClaimAndTheHolderLearnsWhenItIsLost() throws Exception {
        String a = ClaimLock.newOwner(), b = ClaimLock.newOwner();
        try {
            Path run = tmp.resolve("live");
            ClaimLock ca = ClaimLock.tryAcquire(run, a, Fixtures.FAST);
            assertNotNull(ca);
            long until = System.currentTimeMillis() + 2500; // well past the 1 s stale time
            while (System.currentTimeMillis() < until) {
                assertNull(ClaimLock.tryAcquire(run, b, Fixtures.FAST), "a live claim is never taken");
                Thread.sleep(100);
            }
            // a's worker is gone from this process (as after a crash): its claim is expired at once
            ClaimLock.retire(a);
            // a's heartbeat still runs here (only its registration is gone), and a takeover backs off when it
            // sees the claim touched between its two reads: retry like a worker's next pass would
            ClaimLock cb = null;
            for (int i = 0; i < 20 && cb == null; i++) cb = ClaimLock.tryAcquire(run, b, Fixtures.FAST);
            assertNotNull(cb);
            Thread.sleep(400);
            assertTrue(ca.lost(), "the old holder notices at its next heartbeat");
            ca.close(); // must not delete b's claim
            assertEquals(b, ClaimLock.read(run.resolve(ClaimLock.FILE)).owner());
            assertFalse(cb.lost());
            cb.close();
        } finally {
            ClaimLock.retire(a);
            ClaimLock.retire(b);
        }
    }

    @Test
    void aClaimOfADeadProcessOnThisHostExpiresAtOnce() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        String me = ClaimLock.newOwner();
        try {
            String host = me.substring(0, me.indexOf(':'));
            Path run = Files.createDirectories(tmp.resolve("dead"));
            Files.writeString(run.resolve(ClaimLock.FILE), host + ":" + p.pid() + ":x\n");
            ClaimLock c = ClaimLock.tryAcquire(run, me, Fixtures.FAST);
            assertNotNull(c);
            c.close();
        } finally {
            ClaimLock.retire(me);
        }
    }
}
