package org.g2g.sweep;

import org.g2g.train.RunSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class SweepRunnerTest {
    @TempDir Path tmp;

    static String spec(Path data, int epochs) {
        return "name: tiny\n" + Fixtures.base(data, epochs)
                + "grid: {seed: [1, 2]}\n"
                + "variants:\n"
                + "  - {label: dense, model: dense}\n"
                + "  - {label: g2g, model: g2g, p-inter: 0.25}\n"
                + "  - {label: er, model: er, cross: []}\n";
    }

    /** A shard run without stealing: these tests give shards their own directories or want partial sweeps. */
    static SweepRunner.Result run(Grid g, Path out, Shard shard, int parallel) {
        return run(g, out, shard, parallel, false);
    }

    static SweepRunner.Result run(Grid g, Path out, Shard shard, int parallel, boolean steal) {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        SweepRunner.Result r = new SweepRunner(g, out, new SweepRunner.Options(shard, parallel, Fixtures.FAST, Fixtures.sink(console), steal)).run();
        assertTrue(console.toString().contains("done"), console.toString());
        return r;
    }

    /** Each run of the grid: finished once, trained by exactly one worker, one row in results.csv. */
    static void assertEveryRunFinishedOnce(Grid g, Path out) throws IOException {
        List<String> rows = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(g.points.size() + 1, rows.size(), String.join("\n", rows));
        Set<String> names = new HashSet<>();
        for (String r : rows.subList(1, rows.size())) {
            assertTrue(names.add(r.split(",")[0]), "duplicate row " + r);
            assertTrue(r.contains(",finished,"), r);
        }
        for (Grid.Point p : g.points) {
            Path run = out.resolve(p.name());
            assertTrue(names.contains(p.name()), p.name());
            assertEquals("finished", RunSummary.read(run.resolve("summary.json")).status());
            List<String> metrics = Files.readAllLines(run.resolve("metrics.csv"));
            assertEquals(p.config().epochs() + 1, metrics.size(), "one metrics row per epoch in " + run);
            for (int e = 1; e <= p.config().epochs(); e++) assertTrue(metrics.get(e).startsWith(e + ","), metrics.toString());
            String log = Files.readString(run.resolve("log.txt"));
            assertEquals(1, count(log, "\\) finished|== .* finished"), "finished once: " + log);
            assertFalse(Files.exists(run.resolve(ClaimLock.FILE)), "claim released in " + run);
        }
    }

    static int count(String s, String regex) {
        Matcher m = Pattern.compile(regex).matcher(s);
        int n = 0;
        while (m.find()) n++;
        return n;
    }

    @Test
    void runsEveryPointOnceThenSkipsThemOnARerun() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 256, 128);
        Grid g = Grid.expand(SweepSpec.parse(spec(data, 2), "tiny.yaml"), Map.of());
        assertEquals(5, g.points.size());
        Path out = tmp.resolve("out");
        SweepRunner.Result r = run(g, out, Shard.ALL, 1);
        assertEquals(5, r.finished());
        assertTrue(r.failed().isEmpty());
        assertEveryRunFinishedOnce(g, out);
        for (String f : List.of("summary.md", "summary.csv", "sweep.json")) assertTrue(Files.size(out.resolve(f)) > 0, f);
        String results = Files.readString(out.resolve("results.csv"));

        SweepRunner.Result again = run(Grid.expand(SweepSpec.parse(spec(data, 2), "tiny.yaml"), Map.of()), out, Shard.ALL, 1);
        assertEquals(5, again.finished());
        assertEveryRunFinishedOnce(g, out); // no run was started again
        assertEquals(results, Files.readString(out.resolve("results.csv")));

        // a changed spec that would alter existing runs is refused before anything runs
        Grid changed = Grid.expand(SweepSpec.parse(spec(data, 3), "tiny.yaml"), Map.of());
        var e = assertThrows(org.g2g.UserError.class, () -> run(changed, out, Shard.ALL, 1));
        assertTrue(e.getMessage().contains("epochs: 2 -> 3"), e.getMessage());
    }

    @Test
    void parallelWorkersInOneProcessNeverRunAPointTwice() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 256, 128);
        Grid g = Grid.expand(SweepSpec.parse(spec(data, 2), "tiny.yaml"), Map.of());
        Path out = tmp.resolve("out");
        assertEquals(5, run(g, out, Shard.ALL, 3).finished());
        assertEveryRunFinishedOnce(g, out);
        String cfg = Files.readString(out.resolve(g.points.get(0).name()).resolve("config.json"));
        assertTrue(cfg.contains("\"threads\" : 1"), "cores split between workers: " + cfg);
    }

    @Test
    void shardsCoverTheGridAndMergeIntoOne() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 256, 128);
        Grid g = Grid.expand(SweepSpec.parse(spec(data, 1), "tiny.yaml"), Map.of());
        Path a = tmp.resolve("shard0"), b = tmp.resolve("shard1"), merged = tmp.resolve("merged");
        assertEquals(3, run(g, a, new Shard(0, 2), 1).total());
        assertEquals(2, run(g, b, new Shard(1, 2), 1).total());
        assertEquals(4, Files.readAllLines(a.resolve("results.csv")).size());
        SweepMerge.merge(List.of(a, b), merged, Fixtures.sink(new ByteArrayOutputStream()));
        assertEveryRunFinishedOnce(g, merged);
        String before = Files.readString(merged.resolve("results.csv"));
        SweepMerge.merge(List.of(a, b), merged, Fixtures.sink(new ByteArrayOutputStream())); // idempotent
        assertEquals(before, Files.readString(merged.resolve("results.csv")));
        // merging into the first shard's directory works as well
        SweepMerge.merge(List.of(a, b), a, Fixtures.sink(new ByteArrayOutputStream()));
        assertEveryRunFinishedOnce(g, a);
    }

    @Test
    void aShardThatIsDoneTakesOverTheOthersPendingRuns() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 256, 128);
        Grid g = Grid.expand(SweepSpec.parse(spec(data, 1), "tiny.yaml"), Map.of());
        Path out = tmp.resolve("out");
        // shard 1 of 2 never starts (a pending array task): shard 0 does its 3 runs, then shard 1's 2
        SweepRunner.Result r = run(g, out, new Shard(0, 2), 1, true);
        assertEquals(3, r.total());
        assertEquals(3, r.finished());
        assertEquals(new Shard(1, 2).select(g.points).stream().map(Grid.Point::name).sorted().toList(),
                r.stolen().stream().sorted().toList(), "shard 1's runs were taken over");
        assertEveryRunFinishedOnce(g, out);
        // shard 1 starting late finds its runs finished and trains nothing
        SweepRunner.Result late = run(g, out, new Shard(1, 2), 1, true);
        assertEquals(2, late.finished());
        assertTrue(late.stolen().isEmpty());
        assertEveryRunFinishedOnce(g, out);
    }

    @Test
    void shardsStealingFromEachOtherTrainEveryRunOnce() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 256, 128);
        Grid g = Grid.expand(SweepSpec.parse(spec(data, 1), "tiny.yaml"), Map.of());
        Path out = tmp.resolve("out");
        // three shards of 5 runs, two workers each, all stealing, at once in one directory
        List<java.util.concurrent.Future<SweepRunner.Result>> fs = new java.util.ArrayList<>();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            for (int k = 0; k < 3; k++) {
                Shard sh = new Shard(k, 3);
                fs.add(pool.submit(() -> run(g, out, sh, 2, true)));
            }
            int stolen = 0;
            for (var f : fs) {
                SweepRunner.Result r = f.get();
                assertEquals(r.total(), r.finished());
                stolen += r.stolen().size();
            }
            assertTrue(stolen <= 5);
        } finally {
            pool.shutdownNow();
        }
        assertEveryRunFinishedOnce(g, out);
    }

    @Test
    void dryRunListsRunsAndCostsWithoutRunning() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 256, 128);
        Grid g = Grid.expand(SweepSpec.parse(spec(data, 1), "tiny.yaml"), Map.of());
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DryRun.print(g, tmp.resolve("out"), Shard.ALL, Fixtures.sink(b));
        String s = b.toString(StandardCharsets.UTF_8);
        for (Grid.Point p : g.points) assertTrue(s.contains(p.name()), s);
        assertEquals(5, count(s, "pending"));
        assertTrue(s.contains("estimated training cost"), s);
        assertFalse(Files.exists(tmp.resolve("out")));
        b.reset();
        DryRun.print(g, tmp.resolve("out"), new Shard(1, 2), Fixtures.sink(b));
        assertEquals(2, count(b.toString(), "pending"));
    }

    @Test
    void aFailingRunIsRecordedAndTheOthersGoOn() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 256, 128);
        Grid g = Grid.expand(SweepSpec.parse("name: f\n" + Fixtures.base(data, 1) + "grid: {seed: [1]}\nvariants:\n"
                + "  - {label: ok, model: dense}\n  - {label: diverges, model: dense, lr: 1.0e+30}\n", "f.yaml"), Map.of());
        Path out = tmp.resolve("out");
        SweepRunner.Result r = run(g, out, Shard.ALL, 1);
        assertEquals(1, r.finished());
        assertEquals(1, r.failed().size(), r.failed().toString());
        assertTrue(r.failed().get(0).startsWith("diverges_seed=1: training diverged"), r.failed().toString());
        assertTrue(Files.isRegularFile(out.resolve("diverges_seed=1").resolve(ResultsTable.FAILED)));
        List<String> rows = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(3, rows.size());
        assertTrue(rows.get(2).startsWith("diverges_seed=1,") && rows.get(2).contains(",failed,"), rows.get(2));
        assertTrue(Files.readString(out.resolve("summary.md")).contains("1 of 2 runs finished"));
    }

    @Test
    void plotsAreWrittenAsPngAndSvg() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 256, 128);
        Grid g = Grid.expand(SweepSpec.parse(spec(data, 1), "tiny.yaml"), Map.of());
        Path out = tmp.resolve("out");
        run(g, out, new Shard(0, 3), 1); // a partial sweep (2 of 5 runs) still gets its plots
        run(g, out, new Shard(1, 3), 1);
        for (String name : List.of(Plots.DENSITY, Plots.FLOPS)) {
            byte[] png = Files.readAllBytes(out.resolve(name + ".png"));
            assertTrue(png.length > 2000, name);
            assertEquals((byte) 0x89, png[0]);
            assertEquals("PNG", new String(png, 1, 3, StandardCharsets.US_ASCII));
            String svg = Files.readString(out.resolve(name + ".svg"));
            assertTrue(svg.contains("<svg") && svg.length() > 2000, name);
        }
        String keep = System.getProperty("g2g.keepPlots");
        if (keep != null) {
            Files.createDirectories(Path.of(keep));
            for (String f : List.of(Plots.DENSITY, Plots.FLOPS)) for (String x : List.of(".png", ".svg")) {
                Files.copy(out.resolve(f + x), Path.of(keep, f + x), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
