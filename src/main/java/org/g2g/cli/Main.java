package org.g2g.cli;

import org.g2g.UserError;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.Arrays;

/**
 * g2g: train, eval, profile and sweep G2GNet and its baselines. Errors a user can cause end
 * as one line and exit code 2; --debug adds the stack trace.
 */
@Command(name = "g2g", mixinStandardHelpOptions = true, versionProvider = Main.VersionInfo.class,
        description = "Trainer for G2GNet, the group-to-group sparse network, and its baselines.",
        subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, ExportCommand.class, ProfileCommand.class, BenchCommand.class, SweepCommand.class,
                DevicesCommand.class, CommandLine.HelpCommand.class,
                picocli.AutoComplete.GenerateCompletion.class})
public final class Main implements Runnable {
    public static final int USER_ERROR = 2;
    public static final int BUG = 1;

    public static void main(String[] args) {
        boolean debug = Arrays.asList(args).contains("--debug");
        // a thread we did not expect to fail (a pool worker, a heartbeat) says so in one line, not a trace
        Thread.setDefaultUncaughtExceptionHandler((t, ex) -> {
            System.err.println(oneLine(ex) + " (in thread " + t.getName() + ")");
            if (debug) ex.printStackTrace();
        });
        System.exit(run(args));
    }

    public static int run(String... args) {
        return run(null, args);
    }

    /**
     * Runs the CLI with errors written to err (System.err when null); returns the exit code:
     * 0 success, 2 a problem the user can fix ({@link UserError#exitCode()} may say otherwise),
     * 1 a bug. Whatever escapes a command, OutOfMemoryError included, ends as one line;
     * --debug adds the stack trace.
     */
    public static int run(PrintWriter err, String... args) {
        boolean debug = Arrays.asList(args).contains("--debug");
        org.g2g.Invocation.record(args); // a run's config.json says how it was started
        PrintWriter w0 = err != null ? err : new PrintWriter(System.err, true);
        try {
            CommandLine cl = commandLine();
            if (err != null) cl.setErr(err);
            cl.setOverwrittenOptionsAllowed(true); // the last of a repeated option wins, as in most CLIs
            cl.setParameterExceptionHandler((ex, a) -> {
                PrintWriter w = ex.getCommandLine().getErr();
                w.println("error: " + ex.getMessage().split("\n")[0] + " (see: " + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help)");
                w.flush();
                return USER_ERROR;
            });
            cl.setExecutionExceptionHandler((ex, c, pr) -> report(ex, c.getErr(), debug));
            return cl.execute(args);
        } catch (Throwable ex) { // an Error (OutOfMemoryError, StackOverflowError) passes picocli's handler
            return report(ex, w0, debug);
        }
    }

    /** The last resort: one line and an exit code for anything that ends a command. */
    static int report(Throwable ex, PrintWriter w, boolean debug) {
        w.println(oneLine(ex));
        if (debug) ex.printStackTrace(w);
        w.flush();
        return exitCode(ex);
    }

    static int exitCode(Throwable ex) {
        if (ex instanceof UserError u) return u.exitCode();
        return outOfMemory(ex) != null ? USER_ERROR : BUG;
    }

    static String oneLine(Throwable ex) {
        if (ex instanceof UserError) return "error: " + firstLine(ex.getMessage());
        OutOfMemoryError oom = outOfMemory(ex);
        if (oom != null) {
            return "error: out of memory (" + firstLine(oom.getMessage()) + ") with a Java heap limit of "
                    + org.g2g.train.MemoryEstimate.gib(Runtime.getRuntime().maxMemory())
                    + "; use a smaller --hidden, --batch or data set, or a larger heap (G2G_HEAP=16g ./g2g ...)";
        }
        return "internal error: " + ex.getClass().getName() + (ex.getMessage() == null ? "" : ": " + firstLine(ex.getMessage()))
                + " (a bug in g2g; --debug prints the stack trace)";
    }

    private static OutOfMemoryError outOfMemory(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfMemoryError o) return o;
        }
        return null;
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (sub.getCommand() instanceof NeedsRunOptions) RunOptions.addTo(sub.getCommandSpec());
        }
        return cl;
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    /** Marker for commands that take the run options. */
    interface NeedsRunOptions {}

    static final class VersionInfo implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String commit = org.g2g.Version.gitCommit();
            return new String[]{"g2g " + org.g2g.Version.version() + (commit == null ? "" : " (" + commit.substring(0, Math.min(10, commit.length())) + ")"),
                    "Java " + System.getProperty("java.version")};
        }
    }
}
