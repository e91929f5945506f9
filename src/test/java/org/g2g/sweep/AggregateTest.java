package org.g2g.sweep;

import org.g2g.config.ModelKind;
import org.g2g.train.RunRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Statistics against numbers worked out by hand (t quantiles from a printed table). */
class AggregateTest {
    @TempDir Path tmp;

    static final double T975_DF2 = 4.302653, T975_DF4 = 2.776445;

    @Test
    void meanSdAndInterval() {
        Aggregate.Stat s = Aggregate.Stat.of(new double[]{0.80, 0.82, 0.84});
        assertEquals(3, s.n());
        assertEquals(0.82, s.mean(), 1e-12);
        assertEquals(0.02, s.sd(), 1e-12); // sqrt((0.0004 + 0 + 0.0004) / 2)
        assertEquals(T975_DF2 * 0.02 / Math.sqrt(3), s.ci95(), 1e-6); // 0.049683
        Aggregate.Stat one = Aggregate.Stat.of(new double[]{0.5});
        assertEquals(0.5, one.mean());
        assertTrue(Double.isNaN(one.ci95()));
    }

    @Test
    void welchDifference() {
        // equal n and variances: df = 2(n-1) = 4, se = sqrt(2 * 0.0004 / 3)
        Aggregate.Diff d = Aggregate.Diff.welch("b", new double[]{0.80, 0.82, 0.84}, new double[]{0.70, 0.72, 0.74});
        double half = T975_DF4 * Math.sqrt(2 * 0.0004 / 3); // 0.045340
        assertEquals(0.10, d.diff(), 1e-12);
        assertEquals(0.10 - half, d.lo(), 1e-6);
        assertEquals(0.10 + half, d.hi(), 1e-6);
        // unequal variances: a has none, so df = n_b - 1 = 2 and the interval is b's alone
        Aggregate.Diff u = Aggregate.Diff.welch("b", new double[]{0.9, 0.9, 0.9}, new double[]{0.80, 0.82, 0.84});
        assertEquals(0.08, u.diff(), 1e-12);
        assertEquals(T975_DF2 * 0.02 / Math.sqrt(3), u.hi() - u.diff(), 1e-6);
    }

    /** Hand-written summaries in run directories -> grouped table with the baseline difference. */
    @Test
    void groupsOverSeedsAndMatchesTheBaseline() throws Exception {
        Grid g = Grid.expand(SweepSpec.parse("""
                name: agg
                grid: {hidden: [32, 64], seed: [1, 2, 3]}
                variants:
                  - {label: dense, model: dense}
                  - {label: sparse, model: g2g, groups: 4}
                baseline: dense
                """, "agg.yaml"), Map.of());
        double[][] acc = {{0.70, 0.72, 0.74}, {0.80, 0.82, 0.84}, {0.60, 0.60, 0.63}, {0.50, 0.50, 0.50}};
        String[] configs = {"dense_hidden=32", "sparse_hidden=32", "dense_hidden=64", "sparse_hidden=64"};
        for (Grid.Point p : g.points) {
            int c = List.of(configs).indexOf(p.configName());
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("status", "finished");
            s.put("test_accuracy", acc[c][(int) p.config().seed() - 1]);
            s.put("best_test_accuracy", acc[c][(int) p.config().seed() - 1] + 0.01);
            s.put("density", p.config().modelKind() == ModelKind.DENSE ? 1.0 : 0.25);
            s.put("active_params", 1000);
            s.put("flops_per_sample", Map.of("forward", 2000, "train", 6000));
            s.put("train_samples_per_second", 100.0);
            s.put("seconds", 1.0);
            s.put("epochs", 1);
            Files.createDirectories(tmp.resolve(p.name()));
            RunRecorder.writeJson(tmp.resolve(p.name()).resolve("summary.json"), s);
        }
        Files.writeString(tmp.resolve(g.points.get(0).name()).resolve("summary.json"), "{\"status\": \"running\"}");
        acc[0] = new double[]{0.72, 0.74};

        List<ResultsTable.Row> rows = ResultsTable.collect(g, tmp);
        assertEquals(11, rows.size(), "unfinished runs have no row");
        List<Aggregate.Group> groups = Aggregate.groups(g, rows);
        assertEquals(4, groups.size());
        Aggregate.Group sparse32 = groups.stream().filter(x -> x.config().equals("sparse_hidden=32")).findFirst().orElseThrow();
        assertEquals(3, sparse32.test().n());
        assertEquals(0.82, sparse32.test().mean(), 1e-12);
        assertEquals(T975_DF2 * 0.02 / Math.sqrt(3), sparse32.test().ci95(), 1e-6);
        // vs dense at the same hidden width (2 runs: 0.72, 0.74), not the one at 64
        Aggregate.Diff d = sparse32.diffs().get(0);
        assertEquals(0.82 - 0.73, d.diff(), 1e-12);
        double va = 0.0004 / 3, vb = 0.0002 / 2; // sd_b^2 = (0.01^2 + 0.01^2) / 1
        double df = Math.pow(va + vb, 2) / (va * va / 2 + vb * vb / 1);
        assertEquals(2.882, df, 1e-3); // (7/30000)^2 / ((1/7500)^2 / 2 + 1e-8), between the table's rows 2 and 3
        double half = d.hi() - d.diff(), se = Math.sqrt(va + vb);
        assertTrue(half > 3.182446 * se && half < T975_DF2 * se, "t(0.975, 2.88) lies between t(.., 3) and t(.., 2)");
        assertEquals(d.diff() - d.lo(), half, 1e-12);
        Aggregate.Group sparse64 = groups.stream().filter(x -> x.config().equals("sparse_hidden=64")).findFirst().orElseThrow();
        assertEquals(0.50 - 0.61, sparse64.diffs().get(0).diff(), 1e-12);
        Aggregate.Group dense64 = groups.stream().filter(x -> x.config().equals("dense_hidden=64")).findFirst().orElseThrow();
        assertNull(dense64.diffs().get(0), "the baseline has no difference to itself");

        String md = Aggregate.markdown(g, groups, 11, 12);
        assertTrue(md.contains("| sparse_hidden=32 | 3 | 82.00 ± 2.00 | [77.03, 86.97] |"), md);
        String csv = Aggregate.csv(g, groups);
        assertEquals(5, csv.split("\n").length);
        assertTrue(csv.lines().skip(1).anyMatch(l -> l.startsWith("sparse_hidden=32,sparse,sparse hidden=32,32,g2g,4,3,0.820000,0.020000,0.049683,")), csv);
    }
}
