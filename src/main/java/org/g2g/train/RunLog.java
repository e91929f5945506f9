package org.g2g.train;

import org.g2g.io.AtomicFiles;

import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The console of `g2g train`, also kept in the run directory's log.txt (appended to on resume),
 * as a sweep keeps one per run. What is printed before the directory exists (the config, the
 * data) is held and written when {@link #keepIn} names the file, so a run that cannot start
 * leaves no directory. The file gets what a terminal ends up showing: a live progress line
 * rewritten with carriage returns leaves only its last state, without escape codes.
 */
public final class RunLog extends PrintStream {
    private final Tee tee;

    public RunLog(PrintStream console) {
        this(new Tee(console));
    }

    private RunLog(Tee tee) {
        super(tee, true, StandardCharsets.UTF_8);
        this.tee = tee;
    }

    /** From now on every line also goes to file (appended), after what was held so far. */
    public void keepIn(Path file) {
        flush();
        tee.attach(file);
    }

    /** Whether the log has a file yet. */
    public boolean kept() { return tee.file != null; }

    /** Closes the file; the console stays open. */
    @Override
    public void close() {
        flush();
        tee.closeFile();
    }

    private static final class Tee extends OutputStream {
        private final PrintStream console;
        private final ByteArrayOutputStream held = new ByteArrayOutputStream();
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private OutputStream file;
        private boolean gone; // the file was closed or failed: keep nothing more

        Tee(PrintStream console) { this.console = console; }

        @Override
        public synchronized void write(int b) {
            console.write(b);
            take(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            console.write(b, off, len);
            for (int k = off; k < off + len; k++) take(b[k]);
        }

        @Override
        public synchronized void flush() { console.flush(); }

        private void take(int b) {
            if (b == '\r') { line.reset(); return; } // the terminal overwrites the line: so does the file
            line.write(b);
            if (b != '\n') return;
            byte[] text = new String(line.toByteArray(), StandardCharsets.UTF_8).replace("\u001b[K", "")
                    .getBytes(StandardCharsets.UTF_8);
            line.reset();
            if (file == null) {
                if (!gone) held.writeBytes(text);
                return;
            }
            try {
                file.write(text);
                file.flush();
            } catch (IOException e) {
                dropFile("cannot write the run's log.txt (" + AtomicFiles.reason(e) + "); going on without it");
            }
        }

        synchronized void attach(Path f) {
            if (file != null || gone) return;
            try {
                file = new FileOutputStream(f.toFile(), true);
                file.write(("== " + java.time.Instant.now() + " " + (org.g2g.Invocation.commandLine() == null ? "g2g train"
                        : org.g2g.Invocation.commandLine()) + " (pid " + ProcessHandle.current().pid() + " on "
                        + org.g2g.io.WriterLock.host() + ")\n").getBytes(StandardCharsets.UTF_8));
                held.writeTo(file);
                file.flush();
            } catch (IOException e) {
                dropFile("cannot write " + f + " (" + AtomicFiles.reason(e) + "); going on without a log file");
            }
            held.reset();
        }

        private void dropFile(String why) {
            closeFile();
            console.println("warning: " + why);
        }

        synchronized void closeFile() {
            gone = true;
            held.reset();
            if (file == null) return;
            try {
                file.close();
            } catch (IOException e) {
                // the run's outcome does not depend on its log
            }
            file = null;
        }
    }
}
