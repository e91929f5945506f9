package org.g2g;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The command line this process was started with, kept by the CLI's entry point so a run can
 * record how it was made (config.json's "run" block) without every layer passing it along.
 */
public final class Invocation {
    private Invocation() {}

    private static volatile List<String> args;

    public static void record(String... a) { args = List.of(a); }

    /** "g2g ARGS..." quoted for a POSIX shell, or null when g2g was not started from its CLI (tests, the API). */
    public static String commandLine() {
        List<String> a = args;
        if (a == null) return null;
        StringBuilder sb = new StringBuilder("g2g");
        for (String s : a) sb.append(' ').append(shellQuote(s));
        return sb.toString();
    }

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./:=,+@%-]+");

    static String shellQuote(String s) {
        if (PLAIN.matcher(s).matches()) return s;
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
