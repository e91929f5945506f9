package org.g2g.io;

import java.nio.file.Path;

/** A child process for the lock tests: locks DIR, says "locked", holds the lock until stdin closes or it is killed. */
public final class LockHolder {
    public static void main(String[] args) throws Exception {
        try (WriterLock l = WriterLock.acquire(Path.of(args[0]), "lock test")) {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) { /* hold */ }
        }
    }
}
