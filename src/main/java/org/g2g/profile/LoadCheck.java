package org.g2g.profile;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/** Timings mean little while other processes compete for the cores: say so up front. */
final class LoadCheck {
    private LoadCheck() {}

    /** The 1-minute load average (negative where unknown); warns when it exceeds half the cores. */
    static double warn(PrintStream log) {
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        int cores = Runtime.getRuntime().availableProcessors();
        if (load > 0.5 * cores) {
            log.printf(Locale.ROOT, "warning: load average %.1f on %d cores before starting: other processes compete "
                    + "for the CPU, timings will be slower and noisier than on an idle machine%n", load, cores);
        }
        return load;
    }
}
