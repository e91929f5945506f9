package org.g2g.cli;

import org.g2g.UserError;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Whatever escapes a command ends as one line and exit 1 (a bug) or 2 (input), a trace only with --debug. */
class LastResortTest {
    record Out(int code, String text) {}

    static Out report(Throwable t, boolean debug) {
        StringWriter sw = new StringWriter();
        int code = Main.report(t, new PrintWriter(sw, true), debug);
        return new Out(code, sw.toString());
    }

    @Test
    void everyKindOfFailureIsOneLine() {
        List<Throwable> bugs = List.of(new IllegalStateException("two\nlines"), new NullPointerException(),
                new ArrayIndexOutOfBoundsException(-1), new StackOverflowError(), new AssertionError("x"),
                new RuntimeException(new java.io.IOException("wrapped")));
        for (Throwable t : bugs) {
            Out o = report(t, false);
            assertEquals(1, o.code(), t.toString());
            assertEquals(1, o.text().strip().split("\n").length, o.text());
            assertTrue(o.text().startsWith("internal error: " + t.getClass().getName()), o.text());
            assertFalse(o.text().contains("\tat "), o.text());
            Out d = report(t, true);
            assertTrue(d.text().contains("\tat "), "--debug shows the trace: " + d.text());
        }
        // out of memory, bare or wrapped (a sweep worker's failure arrives wrapped): input, with the heap limit
        for (Throwable t : List.of(new OutOfMemoryError("Java heap space"),
                new IllegalStateException(new OutOfMemoryError("Direct buffer memory")))) {
            Out o = report(t, false);
            assertEquals(2, o.code(), o.text());
            assertEquals(1, o.text().strip().split("\n").length, o.text());
            assertTrue(o.text().startsWith("error: out of memory"), o.text());
            assertTrue(o.text().contains("heap limit"), o.text());
        }
        Out u = report(new UserError("bad thing\nsecond line"), false);
        assertEquals(2, u.code());
        assertEquals("error: bad thing", u.text().strip());
        UserError custom = new UserError("diverged") { @Override public int exitCode() { return 3; } };
        assertEquals(3, report(custom, false).code());
    }
}
