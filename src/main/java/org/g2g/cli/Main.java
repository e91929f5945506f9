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
        subcommands = {TrainCommand.class, EvalCommand.class, ProfileCommand.class, BenchCommand.class, SweepCommand.class,
                DevicesCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static final int USER_ERROR = 2;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        return run(null, args);
    }

    /** Runs the CLI with errors written to err (System.err when null); returns the exit code. */
    public static int run(PrintWriter err, String... args) {
        boolean debug = Arrays.asList(args).contains("--debug");
        CommandLine cl = commandLine();
        if (err != null) cl.setErr(err);
        cl.setOverwrittenOptionsAllowed(true); // the last of a repeated option wins, as in most CLIs
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter w = ex.getCommandLine().getErr();
            w.println("error: " + ex.getMessage().split("\n")[0] + " (see: " + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help)");
            w.flush();
            return USER_ERROR;
        });
        cl.setExecutionExceptionHandler((ex, c, pr) -> {
            PrintWriter w = c.getErr();
            if (ex instanceof UserError) {
                w.println("error: " + ex.getMessage());
                if (debug) ex.printStackTrace(w);
                w.flush();
                return USER_ERROR;
            }
            w.println("internal error: " + ex);
            ex.printStackTrace(w);
            w.flush();
            return 1;
        });
        return cl.execute(args);
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
