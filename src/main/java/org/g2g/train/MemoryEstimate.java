package org.g2g.train;

import java.util.Locale;

/** Memory a run needs, estimated in 64-bit arithmetic before anything large is allocated. */
public final class MemoryEstimate {
    private MemoryEstimate() {}

    /** Bytes as "12.3 GiB" / "456 MiB". */
    public static String gib(long bytes) {
        if (bytes >= 1L << 30) return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        return String.format(Locale.ROOT, "%.0f MiB", bytes / (double) (1L << 20));
    }
}
