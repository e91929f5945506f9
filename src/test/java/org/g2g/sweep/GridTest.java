package org.g2g.sweep;

import org.g2g.UserError;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class GridTest {
    static final String SPEC = """
            name: g
            base: {epochs: 3, hidden: 64}
            grid:
              p-inter: [0.1, 0.2, 0.30]
              seed: [1, 2]
            variants:
              - {label: dense, model: dense, cross: [seed]}
              - {label: mixer, model: g2g, grouping: mixer}
              - {label: er, model: er}
            """;

    @Test
    void expandsTheCartesianProductCrossedWithVariants() {
        Grid g = Grid.expand(SweepSpec.parse(SPEC, "t.yaml"), Map.of());
        // 3 p-inter x 2 seeds x (mixer, er) + dense once per seed (not crossed with p-inter)
        assertEquals(3 * 2 * 2 + 2, g.points.size());
        List<String> names = new ArrayList<>();
        for (Grid.Point p : g.points) names.add(p.name());
        assertEquals(List.of("dense_seed=1", "mixer_p-inter=0.1_seed=1", "er_p-inter=0.1_seed=1", "dense_seed=2",
                "mixer_p-inter=0.1_seed=2", "er_p-inter=0.1_seed=2", "mixer_p-inter=0.2_seed=1", "er_p-inter=0.2_seed=1",
                "mixer_p-inter=0.2_seed=2", "er_p-inter=0.2_seed=2", "mixer_p-inter=0.3_seed=1", "er_p-inter=0.3_seed=1",
                "mixer_p-inter=0.3_seed=2", "er_p-inter=0.3_seed=2"), names);
        assertEquals(new HashSet<>(names).size(), names.size());
        Grid.Point er = g.points.get(2);
        assertEquals("er", er.config().modelKind().spelling());
        assertEquals(0.1, er.config().pInter());
        assertEquals(1L, er.config().seed());
        assertEquals(3, er.config().epochs());
        assertEquals("er_p-inter=0.1", er.configName());
        assertEquals("er", er.method());
        assertEquals(List.of("p-inter", "seed", "model", "grouping"), g.columns);
        // the same spec expands the same way every time: run directories are stable across reruns
        Grid again = Grid.expand(SweepSpec.parse(SPEC, "t.yaml"), Map.of());
        for (int i = 0; i < g.points.size(); i++) assertEquals(g.points.get(i).name(), again.points.get(i).name());
    }

    @Test
    void withoutVariantsTheMethodComesFromTheModel() {
        Grid g = Grid.expand(SweepSpec.parse("grid: {model: [dense, g2g], regrow: [random], seed: [1]}", "x.yaml"), Map.of());
        assertEquals(2, g.points.size());
        assertEquals("model=g2g_regrow=random_seed=1", g.points.get(1).name());
        assertEquals("g2g-mixer regrow=random", g.points.get(1).method());
        assertEquals("x", g.spec.name());
    }

    @Test
    void commandLineOptionsReplaceBaseValuesButNotSweptOnes() {
        Grid g = Grid.expand(SweepSpec.parse(SPEC, "t.yaml"), Map.of("epochs", "1", "limit_train", "100"));
        for (Grid.Point p : g.points) {
            assertEquals(1, p.config().epochs());
            assertEquals(100, p.config().limitTrain());
        }
        UserError e = assertThrows(UserError.class, () -> Grid.expand(SweepSpec.parse(SPEC, "t.yaml"), Map.of("seed", "4")));
        assertTrue(e.getMessage().contains("--seed"), e.getMessage());
        e = assertThrows(UserError.class, () -> Grid.expand(SweepSpec.parse(SPEC, "t.yaml"), Map.of("grouping", "index")));
        assertTrue(e.getMessage().contains("variant 'mixer'"), e.getMessage());
    }

    @Test
    void everyPointIsInExactlyOneShard() {
        Grid g = Grid.expand(SweepSpec.parse(SPEC, "t.yaml"), Map.of());
        for (int n = 1; n <= 20; n++) {
            Set<String> seen = new HashSet<>();
            int total = 0, min = Integer.MAX_VALUE, max = 0;
            for (int k = 0; k < n; k++) {
                List<Grid.Point> s = new Shard(k, n).select(g.points);
                total += s.size();
                min = Math.min(min, s.size());
                max = Math.max(max, s.size());
                for (Grid.Point p : s) assertTrue(seen.add(p.name()), "point " + p.name() + " in two shards of " + n);
                // deterministic: the same shard twice is the same list
                assertEquals(s, new Shard(k, n).select(Grid.expand(SweepSpec.parse(SPEC, "t.yaml"), Map.of()).points)
                        .stream().map(p -> g.points.get(p.index())).toList());
            }
            assertEquals(g.points.size(), total);
            assertEquals(g.points.size(), seen.size());
            assertTrue(max - min <= 1, "balanced shards");
        }
    }

    /** A grid whose runs differ 30-fold in cost: dense 512-wide ones and sparse 64-wide ones. */
    static final String SKEWED = """
            name: skew
            base: {epochs: 2, encoder: none}
            grid:
              seed: [1, 2, 3, 4, 5]
            variants:
              - {label: big, model: dense, hidden: 512}
              - {label: small, model: g2g, hidden: 64}
              - {label: mid, model: er, hidden: 256, density: 0.3}
            """;

    private static double[] shardFlops(Grid g, int n, ShardBalance b) {
        double[] f = new double[n];
        for (int k = 0; k < n; k++) for (Grid.Point p : new Shard(k, n, b).select(g.points)) f[k] += p.estimatedTrainFlops();
        return f;
    }

    private static double spread(double[] f) {
        return java.util.Arrays.stream(f).max().orElse(0) - java.util.Arrays.stream(f).min().orElse(0);
    }

    @Test
    void flopBalancedShardsPartitionTheGridAndEvenOutItsCost() {
        Grid g = Grid.expand(SweepSpec.parse(SKEWED, "s.yaml"), Map.of());
        double biggest = 0;
        for (Grid.Point p : g.points) biggest = Math.max(biggest, p.estimatedTrainFlops());
        for (int n = 1; n <= 8; n++) {
            Set<String> seen = new HashSet<>();
            for (int k = 0; k < n; k++) {
                List<Grid.Point> s = new Shard(k, n, ShardBalance.FLOPS).select(g.points);
                for (int i = 1; i < s.size(); i++) assertTrue(s.get(i - 1).index() < s.get(i).index(), "grid order");
                for (Grid.Point p : s) assertTrue(seen.add(p.name()), p.name() + " in two shards of " + n);
                assertEquals(s, new Shard(k, n, ShardBalance.FLOPS).select(
                        Grid.expand(SweepSpec.parse(SKEWED, "s.yaml"), Map.of()).points).stream().map(p -> g.points.get(p.index())).toList(),
                        "every task computes the same split");
            }
            assertEquals(g.points.size(), seen.size());
            double[] byFlops = shardFlops(g, n, ShardBalance.FLOPS);
            // greedy largest-first: no shard ends more than one run's estimate above another
            assertTrue(spread(byFlops) <= biggest, n + ": spread " + spread(byFlops) + " > " + biggest);
        }
        // on this grid round robin puts the 5 big runs unevenly over 3 shards (2, 2, 1) and 4 shards
        for (int n : new int[]{3, 4}) {
            double c = spread(shardFlops(g, n, ShardBalance.COUNT)), f = spread(shardFlops(g, n, ShardBalance.FLOPS));
            assertTrue(f < c, n + " shards: by FLOPs spread " + f + " not below by count " + c);
        }
    }

    @Test
    void shardSyntax() {
        assertEquals(new Shard(2, 5), Shard.parse("2/5"));
        assertThrows(UserError.class, () -> Shard.parse("5/5"));
        assertThrows(UserError.class, () -> Shard.parse("-1/5"));
        assertThrows(UserError.class, () -> Shard.parse("1/0"));
        assertThrows(UserError.class, () -> Shard.parse("a/b"));
        assertThrows(UserError.class, () -> Shard.parse("3"));
        assertEquals(ShardBalance.FLOPS, ShardBalance.parse("flops"));
        assertThrows(UserError.class, () -> ShardBalance.parse("time"));
    }

    @Test
    void valuesFormatCanonically() {
        assertEquals("0.1", Grid.format(0.10));
        assertEquals("0.001", Grid.format(1e-3));
        assertEquals("3", Grid.format(3));
        assertEquals("a-b", Grid.sanitize("a/b"));
    }

    @Test
    void theShippedSpecsExpand() {
        Grid t = Grid.expand(SweepSpec.read(java.nio.file.Path.of("sweeps/paper-table1.yaml")), Map.of());
        assertEquals(15, t.points.size());
        assertEquals(List.of("dense-same-width", "dense-same-params"), t.spec.baseline());
        assertTrue(t.points.stream().allMatch(p -> p.config().dataset().equals("fashion-mnist") && p.config().epochs() == 20));
        Grid s = Grid.expand(SweepSpec.read(java.nio.file.Path.of("sweeps/sparsity.yaml")), Map.of());
        assertEquals(6 * 4 * 3 + 3, s.points.size());
        assertEquals(0.0, s.points.get(0).config().pInter());
    }
}
