package org.g2g.sweep;

import org.g2g.UserError;
import org.g2g.io.AtomicFiles;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A worker's claim on one run directory, so that workers sharing a sweep directory (threads,
 * processes, machines on a shared file system) never train the same run at once.
 *
 * <p>The claim is {@code RUN/.claim}, created with an exclusive create and holding the owner
 * ({@code host:pid:uuid}). A daemon thread touches its mtime every heartbeat. A claim whose mtime
 * is older than staleAfter, or whose owner is a dead process on this host (or a finished worker
 * of this process), is expired: a worker takes it over by renaming a file with its own owner over
 * it, while holding {@code RUN/.claim.takeover} (exclusive create too), so of several workers that
 * saw the same claim expire only one replaces it; it then reads the claim back. A holder that
 * finds a foreign owner in its claim at a heartbeat knows it lost the run ({@link #lost()}).
 */
public final class ClaimLock implements AutoCloseable {
    public static final String FILE = ".claim";

    public record Settings(Duration heartbeat, Duration staleAfter) {
        public static final Settings DEFAULT = new Settings(Duration.ofSeconds(10), Duration.ofSeconds(60));

        public Settings {
            if (staleAfter.compareTo(heartbeat.multipliedBy(2)) < 0) {
                throw new UserError("claims: stale-after (" + staleAfter.toMillis() / 1000.0 + " s) must be at least twice the heartbeat ("
                        + heartbeat.toMillis() / 1000.0 + " s)");
            }
        }

        /** How long a takeover waits before reading its claim back: long against a rename race, short against the stale time. */
        long settleMillis() { return Math.max(20, Math.min(500, staleAfter.toMillis() / 20)); }
    }

    /** Owners (workers) alive in this JVM: a claim of this pid whose owner is not here is left over. */
    private static final Set<String> LIVE = ConcurrentHashMap.newKeySet();
    private static final ScheduledExecutorService BEAT = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "g2g-claim-heartbeat");
        t.setDaemon(true);
        return t;
    });
    private static final String HOST = hostName();
    private static final long PID = ProcessHandle.current().pid();

    public final Path file;
    public final String owner;
    private volatile boolean lost;
    private volatile boolean closed;
    private final ScheduledFuture<?> beat;

    private ClaimLock(Path file, String owner, Settings s) {
        this.file = file;
        this.owner = owner;
        long ms = s.heartbeat().toMillis();
        this.beat = BEAT.scheduleWithFixedDelay(this::heartbeat, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** A fresh owner id for one worker, registered as alive until {@link #retire}. */
    public static String newOwner() {
        String o = HOST + ":" + PID + ":" + UUID.randomUUID();
        LIVE.add(o);
        return o;
    }

    public static void retire(String owner) { LIVE.remove(owner); }

    /** Claims runDir for owner, or returns null when a live worker holds it. */
    public static ClaimLock tryAcquire(Path runDir, String owner, Settings s) {
        Path f = runDir.resolve(FILE);
        try {
            Files.createDirectories(runDir);
            try (OutputStream out = Files.newOutputStream(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                out.write((owner + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return new ClaimLock(f, owner, s);
        } catch (FileAlreadyExistsException e) {
            return takeOver(f, owner, s);
        } catch (IOException e) {
            throw new UserError("cannot claim " + runDir + ": " + AtomicFiles.reason(e), e);
        }
    }

    private static ClaimLock takeOver(Path f, String owner, Settings s) {
        Holder h = read(f);
        if (h == null) return tryAcquire(f.getParent(), owner, s); // released meanwhile: race for a fresh one
        if (!expired(h, s)) return null;
        // One taker at a time: the takeover itself is guarded by an exclusively created file, so two workers
        // that both saw the claim expire cannot both replace it (the second finds the first's fresh claim).
        Path guard = f.resolveSibling(FILE + ".takeover");
        try {
            Files.writeString(guard, owner + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            clearStaleGuard(guard, s);
            return null;
        } catch (IOException e) {
            throw new UserError("cannot take over the expired claim " + f + ": " + AtomicFiles.reason(e), e);
        }
        Path tmp = f.resolveSibling(FILE + "." + UUID.randomUUID() + ".tmp");
        try {
            Holder again = read(f);
            if (again != null && (!again.owner.equals(h.owner) || !again.mtime.equals(h.mtime))) return null; // alive after all
            Files.writeString(tmp, owner + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
            }
            Thread.sleep(s.settleMillis()); // a last check against file systems with weak rename semantics
            Holder now = read(f);
            if (now == null || !now.owner.equals(owner)) return null;
            return new ClaimLock(f, owner, s);
        } catch (IOException e) {
            throw new UserError("cannot take over the expired claim " + f + ": " + AtomicFiles.reason(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            try {
                Files.deleteIfExists(tmp);
                Files.deleteIfExists(guard);
            } catch (IOException ignored) { /* a left guard expires like a claim */ }
        }
    }

    /** A takeover guard left by a worker that died within its takeover expires like a claim. */
    private static void clearStaleGuard(Path guard, Settings s) {
        try {
            if (System.currentTimeMillis() - Files.getLastModifiedTime(guard).toMillis() > s.staleAfter().toMillis()) {
                Files.deleteIfExists(guard);
            }
        } catch (IOException ignored) {
            // gone already, or unreadable: the next pass looks again
        }
    }

    /** The holder of a claim file, or null when there is none. owner is "" while being written. */
    public record Holder(String owner, FileTime mtime) {}

    public static Holder read(Path f) {
        try {
            FileTime t = Files.getLastModifiedTime(f);
            String o = Files.readString(f, StandardCharsets.UTF_8).trim();
            return new Holder(o, t);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new UserError("cannot read claim " + f + ": " + AtomicFiles.reason(e), e);
        }
    }

    /** Whether a holder's claim may be taken over. */
    public static boolean expired(Holder h, Settings s) {
        long age = System.currentTimeMillis() - h.mtime.toMillis();
        if (age > s.staleAfter().toMillis()) return true;
        String[] p = h.owner.split(":");
        if (p.length != 3 || !p[0].equals(HOST)) return false;
        long pid;
        try { pid = Long.parseLong(p[1]); } catch (NumberFormatException e) { return false; }
        if (pid == PID) return !LIVE.contains(h.owner);
        return ProcessHandle.of(pid).map(ph -> !ph.isAlive()).orElse(true);
    }

    /** True once another worker has taken this claim over (this worker was presumed dead). */
    public boolean lost() { return lost; }

    private void heartbeat() {
        if (closed) return;
        try {
            Holder h = read(file);
            if (h == null || !h.owner.equals(owner)) {
                lost = true;
                beat.cancel(false);
                return;
            }
            Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException | UserError e) {
            // a missed beat is not fatal; the next one retries (the claim expires only after several)
        }
    }

    /** Stops the heartbeat and deletes the claim if it is still ours. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        beat.cancel(false);
        try {
            Holder h = read(file);
            if (h != null && h.owner.equals(owner)) Files.deleteIfExists(file);
        } catch (IOException | UserError ignored) {
            // the claim expires by itself
        }
    }

    private static String hostName() {
        return org.g2g.io.WriterLock.host().replace(':', '-');
    }
}
