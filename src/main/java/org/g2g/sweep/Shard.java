package org.g2g.sweep;

import org.g2g.UserError;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Shard k of n (k counts from 0, as Slurm's array index and Kubernetes' completion index do),
 * split by {@link ShardBalance}: every task computes the same split from the same grid, so the
 * shards never overlap. Round robin (count) keeps shards balanced when the grid's slowest axis
 * is the seed; flops balances grids whose runs differ in size. The claims still guard against
 * overlaps when shards of different specs share a directory, and make work stealing safe.
 */
public record Shard(int k, int n, ShardBalance balance) {
    public static final Shard ALL = new Shard(0, 1);

    public Shard {
        if (n < 1) throw new UserError("--shard " + k + "/" + n + ": N must be at least 1");
        if (k < 0 || k >= n) throw new UserError("--shard " + k + "/" + n + ": k must be in 0.." + (n - 1) + " (k counts from 0)");
        if (balance == null) balance = ShardBalance.COUNT;
    }

    public Shard(int k, int n) { this(k, n, ShardBalance.COUNT); }

    public static Shard parse(String s) { return parse(s, ShardBalance.COUNT); }

    public static Shard parse(String s, ShardBalance balance) {
        String[] p = s.trim().split("/");
        if (p.length != 2) throw new UserError("--shard '" + s + "': expected k/N, e.g. 0/4");
        try {
            return new Shard(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()), balance);
        } catch (NumberFormatException e) {
            throw new UserError("--shard '" + s + "': expected k/N with whole numbers, e.g. 0/4");
        }
    }

    /** This shard's points, in grid order. */
    public List<Grid.Point> select(List<Grid.Point> all) { return split(all).get(k); }

    /** Every shard's points (index j: shard j of n), each in grid order. */
    public List<List<Grid.Point>> split(List<Grid.Point> all) {
        List<List<Grid.Point>> out = new ArrayList<>();
        for (int j = 0; j < n; j++) out.add(new ArrayList<>());
        if (balance == ShardBalance.COUNT) {
            for (int i = 0; i < all.size(); i++) out.get(i % n).add(all.get(i));
            return out;
        }
        double[] cost = new double[all.size()];
        Integer[] order = new Integer[all.size()];
        for (int i = 0; i < all.size(); i++) {
            cost[i] = all.get(i).estimatedTrainFlops();
            order[i] = i;
        }
        // largest first; equal estimates in grid order, so every task deals the same hand
        java.util.Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -cost[i]).thenComparingInt(i -> i));
        double[] load = new double[n];
        for (int i : order) {
            int least = 0;
            for (int j = 1; j < n; j++) if (load[j] < load[least]) least = j;
            load[least] += cost[i];
            out.get(least).add(all.get(i));
        }
        for (List<Grid.Point> l : out) l.sort(Comparator.comparingInt(Grid.Point::index));
        return out;
    }

    @Override public String toString() { return k + "/" + n + (balance == ShardBalance.FLOPS ? " by FLOPs" : ""); }
}
