package org.g2g.sweep;

import org.g2g.UserError;

import java.util.ArrayList;
import java.util.List;

/**
 * Shard k of n (k counts from 0, as Slurm's array index and Kubernetes' completion index do):
 * the points whose index in the grid's order is k modulo n. Round robin keeps shards balanced
 * when the grid's slowest axis is the seed; the claims still guard against overlaps when
 * shards of different specs share a directory.
 */
public record Shard(int k, int n) {
    public static final Shard ALL = new Shard(0, 1);

    public Shard {
        if (n < 1) throw new UserError("--shard " + k + "/" + n + ": N must be at least 1");
        if (k < 0 || k >= n) throw new UserError("--shard " + k + "/" + n + ": k must be in 0.." + (n - 1) + " (k counts from 0)");
    }

    public static Shard parse(String s) {
        String[] p = s.trim().split("/");
        if (p.length != 2) throw new UserError("--shard '" + s + "': expected k/N, e.g. 0/4");
        try {
            return new Shard(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()));
        } catch (NumberFormatException e) {
            throw new UserError("--shard '" + s + "': expected k/N with whole numbers, e.g. 0/4");
        }
    }

    public boolean contains(int index) { return index % n == k; }

    public <T> List<T> select(List<T> all) {
        List<T> out = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) if (contains(i)) out.add(all.get(i));
        return out;
    }

    @Override public String toString() { return k + "/" + n; }
}
