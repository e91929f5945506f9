package org.g2g.sweep;

import org.g2g.UserError;

import java.util.Locale;

/** How `--shard k/N` splits a grid: by number of runs, or by their estimated training FLOPs. */
public enum ShardBalance {
    /** Runs k, k+N, k+2N, ... of the grid: equal counts, whatever each run costs. */
    COUNT,
    /**
     * Runs dealt largest estimate first, each to the shard with the least estimated work so far
     * (longest-processing-time first): shards whose FLOPs differ by at most one run's estimate.
     */
    FLOPS;

    public String spelling() { return name().toLowerCase(Locale.ROOT); }

    public static ShardBalance parse(String s) {
        for (ShardBalance b : values()) if (b.spelling().equals(s.trim().toLowerCase(Locale.ROOT))) return b;
        throw new UserError("--shard-balance '" + s + "': expected count or flops");
    }
}
