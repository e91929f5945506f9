package org.g2g.train;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.io.TempDir;

/** The steady throughput against a naive per-step account; the run log's file against the console. */
class RunClockTest {
    @TempDir Path tmp;

    /**
     * Sessions of epochs, each step with its own duration and batch: RunClock's epoch-level
     * account must equal summing the steps after each session's first WARMUP_STEPS.
     */
    @Test
    void steadyRateLeavesOutEachSessionsWarmUp() {
        java.util.Random rnd = new java.util.Random(11);
        int[][] sessions = {{7, 9, 30}, {13, 40}, {5}}; // steps per epoch; the last session never warms up
        RunClock clock = RunClock.ZERO;
        double naiveSecs = 0, naiveTrain = 0;
        long naiveSamples = 0;
        for (int[] epochs : sessions) {
            long stepsThisSession = 0;
            for (int steps : epochs) {
                long nanos = 0, warmNanos = 0;
                int samples = 0, warmSamples = 0;
                long before = stepsThisSession;
                for (int k = 0; k < steps; k++) {
                    long d = stepsThisSession < RunClock.WARMUP_STEPS ? 50_000_000L + rnd.nextInt(1_000_000)
                            : 2_000_000L + rnd.nextInt(100_000);
                    int bs = k == steps - 1 ? 17 : 64;
                    nanos += d;
                    samples += bs;
                    stepsThisSession++;
                    if (stepsThisSession > RunClock.WARMUP_STEPS) { naiveSecs += d / 1e9; naiveSamples += bs; }
                    if (stepsThisSession == RunClock.WARMUP_STEPS) { warmNanos = nanos; warmSamples = samples; }
                }
                naiveTrain += nanos / 1e9;
                clock = clock.plusEpoch(before, steps, samples, warmSamples, warmNanos, nanos);
            }
        }
        assertEquals(naiveSamples, clock.steadySamples());
        assertEquals(naiveSecs, clock.steadySeconds(), 1e-9);
        assertEquals(naiveTrain, clock.trainSeconds(), 1e-9);
        double rate = clock.steadySamplesPerSecond();
        assertEquals(naiveSamples / naiveSecs, rate, 1e-6 * rate);
        // the warm-up steps are 25x slower: counting them would lower the figure a lot
        assertTrue(rate > 2 * (naiveSamples / naiveTrain), rate + " vs " + naiveSamples / naiveTrain);
        assertTrue(Double.isNaN(RunClock.ZERO.plusEpoch(0, 5, 320, 0, 0, 1_000_000).steadySamplesPerSecond()),
                "a session shorter than the warm-up has no steady rate");
    }

    @Test
    void runLogKeepsWhatTheTerminalShows() throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        Path f = tmp.resolve("log.txt");
        try (RunLog log = new RunLog(new PrintStream(console, true, StandardCharsets.UTF_8))) {
            log.println("config: before the directory exists");
            log.keepIn(f);
            log.print("\repoch 1 step 1/4");
            log.print("\repoch 1 step 4/4   ");
            log.print("\r\033[K");
            log.println("epoch 1/1  done");
            log.println("result: ünïcode");
        }
        String c = console.toString(StandardCharsets.UTF_8);
        assertTrue(c.contains("\repoch 1 step 4/4") && c.contains("\033[K"), "the console gets everything: " + c);
        java.util.List<String> lines = Files.readAllLines(f);
        assertTrue(lines.get(0).startsWith("== "), lines.toString());
        assertEquals(java.util.List.of("config: before the directory exists", "epoch 1/1  done", "result: ünïcode"),
                lines.subList(1, lines.size()));
    }
}
