package org.g2g.testutil;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.g2g.cli.Main;

/**
 * One in-process `g2g` command with what it printed: the exit code, standard output (captured
 * by swapping System.out, since the commands print there) and the error writer Main reports to.
 */
public record CliRun(int code, String out, String err) {
    public static CliRun of(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        int code;
        try (PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(p);
            code = Main.run(new PrintWriter(err, true), args);
        } finally {
            System.setOut(old);
        }
        return new CliRun(code, buf.toString(StandardCharsets.UTF_8), err.toString());
    }
}
