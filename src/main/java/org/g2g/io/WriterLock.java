package org.g2g.io;

import org.g2g.UserError;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One writer per directory: an exclusive OS lock (fcntl via {@link FileChannel#tryLock}) on
 * DIR/.g2g.lock, held for the whole run. The OS drops it when the process dies, however it
 * dies, so there is nothing stale to clean up. The file's content names the holder (pid, host,
 * start time, command) for the refusal message; it is only ever read for that.
 *
 * <p>The file is deleted on release, so a waiter may lock an unlinked file: after locking, it
 * checks that the path still names the file it opened (device and inode), else tries again.
 */
public final class WriterLock implements AutoCloseable {
    public static final String FILE = ".g2g.lock";
    private static final String HOST = hostName();

    public final Path dir;
    private final Path real;
    private final Path file;
    private final FileChannel ch;
    private final FileLock lock;
    private final boolean createdDir;
    private boolean closed;

    private WriterLock(Path dir, Path real, Path file, FileChannel ch, FileLock lock, boolean createdDir) {
        this.dir = dir;
        this.real = real;
        this.file = file;
        this.ch = ch;
        this.lock = lock;
        this.createdDir = createdDir;
    }

    /**
     * Creates dir when needed and locks it for this process, or throws a UserError naming the
     * holder. what describes the writer (e.g. "g2g train") for others' refusal messages.
     */
    public static WriterLock acquire(Path dir, String what) {
        if (dir.toString().isBlank()) throw new UserError("output directory '': empty path; give a directory name");
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new UserError("output directory " + dir + ": exists and is not a directory");
        boolean created = !Files.exists(dir);
        Path real;
        try {
            Files.createDirectories(dir);
            real = dir.toRealPath();
        } catch (IOException e) {
            throw new UserError("output directory " + dir + ": not writable (" + AtomicFiles.reason(e) + ")");
        }
        String me = "pid " + ProcessHandle.current().pid() + " on host " + HOST + ", started " + Instant.now() + " (" + what + ")";
        // POSIX drops a process's lock when it closes ANY descriptor of the file, so a second
        // writer in this process must be refused without ever opening the lock file
        String other = HELD.putIfAbsent(real, me);
        if (other != null) throw refusal(dir, other);
        Path f = dir.resolve(FILE);
        try {
            for (int attempt = 0; attempt < 20; attempt++) {
                Object before = fileKey(f);
                FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock l;
                try {
                    l = ch.tryLock();
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
                if (l == null) {
                    ch.close();
                    throw refusal(dir, holder(f));
                }
                Object after = fileKey(f);
                if (after != null && after.equals(before)) {
                    ch.truncate(0);
                    ch.write(ByteBuffer.wrap((me + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                    ch.force(false);
                    WriterLock w = new WriterLock(dir, real, f, ch, l, created);
                    real = null; // now owned by w
                    return w;
                }
                // the path was removed or replaced while we opened it (a holder deletes it on release): lock the new file
                l.release();
                ch.close();
            }
            throw new UserError("output directory " + dir + ": could not lock " + f.getFileName() + " (it keeps being replaced)");
        } catch (IOException e) {
            throw new UserError("output directory " + dir + ": cannot lock " + f.getFileName() + " (" + AtomicFiles.reason(e) + ")");
        } finally {
            if (real != null) HELD.remove(real);
        }
    }

    /** Directories (real paths) locked by this process, with the holder's description. */
    private static final Map<Path, String> HELD = new ConcurrentHashMap<>();

    private static UserError refusal(Path dir, String holder) {
        return new UserError("output directory " + dir + " is in use by " + holder + "; wait for it to finish, or choose another --out");
    }

    /** The identity (device, inode) of the file at f now, or null when there is none. */
    private static Object fileKey(Path f) {
        try {
            return Files.readAttributes(f, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** The holder as written in its lock file (read by a process that does not hold the lock). */
    static String holder(Path f) {
        try {
            String s = Files.readString(f).strip();
            return s.isEmpty() ? "another process (it has not written its name yet)" : s;
        } catch (IOException e) {
            return "another process";
        }
    }

    /**
     * Deletes AtomicFiles' temp files left in dir by a writer killed mid-write. Only the lock
     * holder may call this: nobody else writes there.
     */
    public int removeStaleTemps() {
        int n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".*.tmp")) {
            for (Path p : ds) if (AtomicFiles.isTemp(p.getFileName().toString()) && Files.deleteIfExists(p)) n++;
        } catch (IOException e) {
            // best effort: a left-over temp file wastes space but is never read
        }
        return n;
    }

    /**
     * Releases the lock and deletes the lock file; a directory this lock created and nothing
     * else wrote to (a run that failed before starting) is removed too.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            Files.deleteIfExists(file); // while still locked: a waiter then sees the path change
        } catch (IOException ignored) {
            // the next holder overwrites it
        }
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        closeQuietly(ch);
        HELD.remove(real);
        if (createdDir) {
            try {
                Files.delete(dir); // fails unless empty, which is what we want
            } catch (IOException ignored) {
                // not empty: the run wrote something, keep it
            }
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    /** This machine's name: $HOSTNAME, /etc/hostname, or what the resolver says. */
    public static String host() { return HOST; }

    private static String hostName() {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) {
            try {
                h = Files.readString(Path.of("/etc/hostname")).trim();
            } catch (IOException | RuntimeException e) {
                h = null;
            }
        }
        if (h == null || h.isBlank()) {
            try { h = java.net.InetAddress.getLocalHost().getHostName(); } catch (IOException e) { h = "unknown-host"; }
        }
        return h;
    }
}
