package org.g2g.sweep;

import org.g2g.train.RunRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Sweeps in child JVMs: two processes sharing a directory, and a process killed mid-run. */
class SweepProcessTest {
    @TempDir Path tmp;

    static Process sweep(Path spec, Path out, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Djava.awt.headless=true", "-Xmx512m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "org.g2g.cli.Main",
                "sweep", "--spec", spec.toString(), "--out", out.toString(), "--heartbeat", "0.2", "--stale-after", "2"));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    @Test
    void twoProcessesOnOneDirectoryNeverRunTheSamePoint() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 600, 100);
        Path spec = Fixtures.spec(tmp, "name: race\n" + Fixtures.base(data, 2)
                + "grid: {seed: [1, 2, 3], model: [dense, g2g]}\n");
        Path out = tmp.resolve("out");
        Process a = sweep(spec, out, tmp.resolve("a.log")), b = sweep(spec, out, tmp.resolve("b.log"));
        assertTrue(a.waitFor(60, TimeUnit.SECONDS) && b.waitFor(60, TimeUnit.SECONDS), "sweeps finish");
        assertEquals(0, a.exitValue(), Files.readString(tmp.resolve("a.log")));
        assertEquals(0, b.exitValue(), Files.readString(tmp.resolve("b.log")));
        Grid g = Grid.expand(SweepSpec.read(spec), Map.of());
        SweepRunnerTest.assertEveryRunFinishedOnce(g, out);
        for (Grid.Point p : g.points) {
            String log = Files.readString(out.resolve(p.name()).resolve("log.txt"));
            assertEquals(1, SweepRunnerTest.count(log, " starts "), log);
            assertEquals(0, SweepRunnerTest.count(log, " resumes "), log);
        }
        System.out.println("race: process a ran " + SweepRunnerTest.count(Files.readString(tmp.resolve("a.log")), ": starting")
                + " runs, b ran " + SweepRunnerTest.count(Files.readString(tmp.resolve("b.log")), ": starting"));
    }

    @Test
    void aSweepKilledMidRunResumesAndFinishesEveryRunOnce() throws Exception {
        Path data = Fixtures.idx(tmp.resolve("data"), 3000, 200);
        Path spec = Fixtures.spec(tmp, "name: kill\n" + Fixtures.base(data, 4) + "grid: {seed: [1, 2], model: [g2g]}\n");
        Path out = tmp.resolve("out");
        Grid g = Grid.expand(SweepSpec.read(spec), Map.of());
        Process p = sweep(spec, out, tmp.resolve("child.log"));
        String killedIn = null;
        // generous: the loop ends as soon as the child is caught, and a loaded 2-core machine once took over 60 s
        // to start the child's JVM and finish its first epoch
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (killedIn == null && System.nanoTime() < deadline && p.isAlive()) {
            for (Grid.Point pt : g.points) {
                Path run = out.resolve(pt.name());
                if (SweepRunner.epochsDone(run) >= 1 && !ResultsTable.finished(run)) { killedIn = pt.name(); break; }
            }
            if (killedIn == null) Thread.sleep(5);
        }
        assertNotNull(killedIn, "caught the child mid-run: " + Files.readString(tmp.resolve("child.log")));
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        assertFalse(ResultsTable.finished(out.resolve(killedIn)));
        assertTrue(Files.exists(out.resolve(killedIn).resolve(ClaimLock.FILE)), "the dead worker's claim is left behind");

        // every file a reader might look at is whole after the kill
        try (Stream<Path> files = Files.walk(out)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String n = f.getFileName().toString();
                if (n.endsWith(".json") && !n.startsWith(".")) RunRecorder.JSON.readTree(f.toFile());
                if (n.equals("metrics.csv")) for (String l : Files.readAllLines(f).subList(1, Files.readAllLines(f).size())) {
                    assertEquals(10, l.split(",", -1).length, f + ": " + l);
                }
            }
        }

        // the rerun (the same command) takes over the dead process's claim at once and resumes from the checkpoint
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        SweepRunner.Result r = new SweepRunner(g, out, new SweepRunner.Options(Shard.ALL, 1, Fixtures.FAST, Fixtures.sink(console), true)).run();
        assertEquals(g.points.size(), r.finished(), console.toString());
        SweepRunnerTest.assertEveryRunFinishedOnce(g, out);
        String log = Files.readString(out.resolve(killedIn).resolve("log.txt"));
        assertTrue(log.contains(" resumes ") && log.contains("resuming"), log);
    }
}
