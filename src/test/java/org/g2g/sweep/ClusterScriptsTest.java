package org.g2g.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The shipped cluster files, without a cluster: sweeps/slurm-array.sbatch run by bash with the
 * environment Slurm would give an array task and stubs for g2g, mvn and scontrol on a PATH of
 * our own; sweeps/k8s-indexed-job.yaml parsed and checked field by field.
 */
class ClusterScriptsTest {
    static final Path SBATCH = Path.of("sweeps/slurm-array.sbatch").toAbsolutePath();
    static final Path K8S = Path.of("sweeps/k8s-indexed-job.yaml").toAbsolutePath();

    @TempDir Path tmp;
    Path repo, bin, stubLog;

    /** A submit directory with a stub ./g2g that records its arguments and environment. */
    @BeforeEach
    void stubs() throws Exception {
        repo = Files.createDirectories(tmp.resolve("repo"));
        bin = Files.createDirectories(tmp.resolve("bin"));
        stubLog = tmp.resolve("stub.log");
        script(repo.resolve("g2g"), """
                #!/bin/bash
                echo "g2g $* | heap=${G2G_HEAP:-unset} nobuild=${G2G_NO_BUILD:-unset}" >> "$STUB_LOG"
                if [ -n "${STUB_SLEEP:-}" ]; then
                  trap 'echo "g2g got TERM" >> "$STUB_LOG"; exit 143' TERM
                  touch "$STUB_LOG.started"
                  sleep 60 & wait $!
                fi
                exit 0
                """);
        script(bin.resolve("scontrol"), "#!/bin/bash\necho \"scontrol $*\" >> \"$STUB_LOG\"\n");
        // only these tools, so that "no Maven on the node" can be staged whatever this machine has
        for (String tool : List.of("flock", "find", "hostname", "mkdir", "sleep", "touch", "cat", "bash")) {
            Path real = which(tool);
            Files.createSymbolicLink(bin.resolve(tool), real);
        }
    }

    static Path which(String tool) {
        for (String d : System.getenv("PATH").split(":")) {
            Path p = Path.of(d, tool);
            if (Files.isExecutable(p)) return p;
        }
        throw new AssertionError(tool + " not on PATH: the test needs it");
    }

    static void script(Path f, String text) throws IOException {
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    void jar() throws IOException {
        Files.createDirectories(repo.resolve("target"));
        Files.writeString(repo.resolve("target/g2g.jar"), "jar");
    }

    /** A stub mvn that takes a second to "build" the jar and says so in the log. */
    void mvnStub() throws IOException {
        script(bin.resolve("mvn"), "#!/bin/bash\necho mvn >> \"$STUB_LOG\"\nsleep 1\nmkdir -p target\necho jar > target/g2g.jar\n");
    }

    record Done(int code, String err) {}

    ProcessBuilder task(Map<String, String> env) {
        ProcessBuilder pb = new ProcessBuilder(bin.resolve("bash").toString(), SBATCH.toString());
        pb.directory(repo.toFile());
        Map<String, String> e = pb.environment();
        e.clear(); // nothing of this machine's environment (a real SLURM_* would change the answers)
        e.put("PATH", bin.toString());
        e.put("HOME", tmp.toString());
        e.put("STUB_LOG", stubLog.toString());
        e.put("SLURM_SUBMIT_DIR", repo.toString());
        e.put("SLURM_JOB_ID", "1001");
        e.put("SLURM_CPUS_PER_TASK", "8");
        e.putAll(env);
        pb.redirectErrorStream(false);
        return pb;
    }

    Done runTask(Map<String, String> env) throws Exception {
        Process p = task(env).start();
        p.getOutputStream().close();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "task did not end");
        return new Done(p.exitValue(), err);
    }

    static Map<String, String> arrayTask(int id, int min, int max, int step, int count) {
        Map<String, String> m = new HashMap<>(Map.of("SLURM_ARRAY_JOB_ID", "77", "SLURM_ARRAY_TASK_ID", "" + id,
                "SLURM_ARRAY_TASK_MIN", "" + min, "SLURM_ARRAY_TASK_MAX", "" + max, "SLURM_ARRAY_TASK_COUNT", "" + count));
        if (step > 0) m.put("SLURM_ARRAY_TASK_STEP", "" + step);
        return m;
    }

    List<String> g2gCalls() throws IOException {
        if (!Files.exists(stubLog)) return List.of();
        return Files.readAllLines(stubLog).stream().filter(l -> l.startsWith("g2g ")).toList();
    }

    static String shardOf(String call) {
        Matcher m = Pattern.compile("--shard (\\d+/\\d+)").matcher(call);
        assertTrue(m.find(), call);
        return m.group(1);
    }

    @Test
    void theScriptParsesAndAsksSlurmForRequeueOnTheTimeLimit() throws Exception {
        Process p = new ProcessBuilder("bash", "-n", SBATCH.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<String> sbatch = Files.readAllLines(SBATCH).stream().filter(l -> l.startsWith("#SBATCH")).toList();
        for (String want : List.of("--requeue", "--open-mode=append")) {
            assertTrue(sbatch.stream().anyMatch(l -> l.contains(want)), "#SBATCH " + want + " in " + sbatch);
        }
        assertTrue(sbatch.stream().anyMatch(l -> l.matches("#SBATCH --signal=B:USR1@\\d+")), sbatch.toString());
    }

    @Test
    void everyTaskOfASteppedArrayGetsItsOwnValidShard() throws Exception {
        jar();
        // --array=0-6:2: tasks 0, 2, 4, 6 -> shards 0..3 of 4 (the old script asked for 2/4, 4/4, 6/4)
        for (int id = 0; id <= 6; id += 2) {
            Done d = runTask(arrayTask(id, 0, 6, 2, 4));
            assertEquals(0, d.code, d.err);
        }
        // --array=3-5: 3, 4, 5 -> 0..2 of 3; and a throttle (%2) changes nothing Slurm passes
        for (int id = 3; id <= 5; id++) assertEquals(0, runTask(arrayTask(id, 3, 5, 1, 3)).code);
        List<String> shards = g2gCalls().stream().map(ClusterScriptsTest::shardOf).toList();
        assertEquals(List.of("0/4", "1/4", "2/4", "3/4", "0/3", "1/3", "2/3"), shards);
        for (String c : g2gCalls()) {
            assertTrue(c.startsWith("g2g sweep --spec sweeps/paper-table1.yaml --out runs/sweep-paper-table1 --shard "), c);
            assertTrue(c.contains("--threads 8") && c.contains("nobuild=1"), c);
        }
    }

    @Test
    void anArrayThatIsNoSteppedRangeIsRefusedUnlessShardIsGiven() throws Exception {
        jar();
        // --array=1,5,6: count 3 between 1 and 6 - no step maps it
        Done d = runTask(arrayTask(5, 1, 6, 0, 3));
        assertEquals(2, d.code, d.err);
        assertTrue(d.err.contains("not an evenly stepped range") && d.err.contains("SHARD=k/N"), d.err);
        assertTrue(g2gCalls().isEmpty());
        Map<String, String> env = arrayTask(5, 1, 6, 0, 3);
        env.put("SHARD", "1/3");
        assertEquals(0, runTask(env).code);
        assertEquals("1/3", shardOf(g2gCalls().get(0)));
        env.put("SHARD", "3/3");
        Done bad = runTask(env);
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("k must be below N"), bad.err);
    }

    @Test
    void theHeapFollowsTheJobsMemory() throws Exception {
        jar();
        Map<String, String> perNode = arrayTask(0, 0, 0, 1, 1);
        perNode.put("SLURM_MEM_PER_NODE", "16384");            // --mem=16G
        Map<String, String> perCpu = arrayTask(0, 0, 0, 1, 1);
        perCpu.put("SLURM_MEM_PER_CPU", "1000");               // --mem-per-cpu=1000 x 8 CPUs
        Map<String, String> given = new HashMap<>(perNode);
        given.put("G2G_HEAP", "5g");
        for (Map<String, String> e : List.of(perNode, perCpu, given)) assertEquals(0, runTask(e).code);
        List<String> calls = g2gCalls();
        assertTrue(calls.get(0).contains("heap=12288m"), calls.get(0));
        assertTrue(calls.get(1).contains("heap=6000m"), calls.get(1));
        assertTrue(calls.get(2).contains("heap=5g"), calls.get(2));
    }

    @Test
    void theJarIsBuiltOnceWhateverTheNumberOfTasks() throws Exception {
        mvnStub();
        List<Process> ps = new ArrayList<>();
        for (int id = 0; id < 4; id++) ps.add(task(arrayTask(id, 0, 3, 1, 4)).start());
        for (Process p : ps) {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        List<String> log = Files.readAllLines(stubLog);
        assertEquals(1, log.stream().filter(l -> l.equals("mvn")).count(), "one build: " + log);
        assertEquals(4, g2gCalls().size());
        // a jar older than the sources is used as it is: no task rebuilds
        Files.createDirectories(repo.resolve("src/main"));
        Files.writeString(repo.resolve("src/main/Newer.java"), "");
        Files.setLastModifiedTime(repo.resolve("target/g2g.jar"), java.nio.file.attribute.FileTime.fromMillis(0));
        Done d = runTask(arrayTask(0, 0, 3, 1, 4));
        assertEquals(0, d.code, d.err);
        assertTrue(d.err.contains("older than the sources"), d.err);
        assertEquals(1, Files.readAllLines(stubLog).stream().filter(l -> l.equals("mvn")).count());
    }

    @Test
    void aNodeWithoutMavenAndWithoutTheJarSaysWhatToDo() throws Exception {
        Done d = runTask(arrayTask(0, 0, 3, 1, 4));
        assertEquals(2, d.code, d.err);
        assertTrue(d.err.contains("no Maven") && d.err.contains("mvn -DskipTests package"), d.err);
        assertEquals(1, d.err.strip().split("\n").length, d.err);
        assertTrue(g2gCalls().isEmpty());
    }

    @Test
    void usr1BeforeTheTimeLimitStopsG2gAndRequeuesTheTask() throws Exception {
        jar();
        Map<String, String> env = arrayTask(2, 0, 3, 1, 4);
        env.put("STUB_SLEEP", "1");
        Process p = task(env).start();
        Path started = Path.of(stubLog + ".started");
        long until = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(started) && System.nanoTime() < until) Thread.sleep(50);
        assertTrue(Files.exists(started), "g2g stub never started");
        Process kill = new ProcessBuilder("kill", "-USR1", Long.toString(p.pid())).start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the task did not end after USR1");
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), err);
        List<String> log = Files.readAllLines(stubLog);
        int term = log.indexOf("g2g got TERM"), requeue = log.indexOf("scontrol requeue 77_2");
        assertTrue(term >= 0 && requeue > term, "g2g stopped, then the task requeued: " + log);
    }

    @Test
    void perTaskDirectoriesAndTheirMerge() throws Exception {
        jar();
        for (int id = 0; id < 2; id++) {
            Map<String, String> env = arrayTask(id, 0, 1, 1, 2);
            env.put("PER_TASK", "1");
            env.put("OUT", "out");
            assertEquals(0, runTask(env).code);
        }
        List<String> calls = g2gCalls();
        assertTrue(calls.get(0).contains("--out out/shard-0-of-2 --shard 0/2") && calls.get(0).contains("--no-steal"), calls.get(0));
        assertTrue(calls.get(1).contains("--out out/shard-1-of-2 --shard 1/2"), calls.get(1));
        Map<String, String> merge = arrayTask(0, 0, 0, 1, 1);
        merge.put("MERGE", "1");
        merge.put("OUT", "out");
        Done none = runTask(merge);
        assertEquals(2, none.code, "no shard directories yet");
        Files.createDirectories(repo.resolve("out/shard-0-of-2"));
        Files.createDirectories(repo.resolve("out/shard-1-of-2"));
        assertEquals(0, runTask(merge).code);
        List<String> after = g2gCalls();
        assertTrue(after.get(after.size() - 1).startsWith("g2g sweep merge --out out out/shard-0-of-2 out/shard-1-of-2 |"),
                after.toString());
    }

    // ---------- Kubernetes ----------

    static List<JsonNode> k8sDocuments() throws IOException {
        ObjectMapper m = new ObjectMapper(new YAMLFactory());
        List<JsonNode> docs = new ArrayList<>();
        try (var it = m.readerFor(JsonNode.class).<JsonNode>readValues(K8S.toFile())) {
            while (it.hasNext()) {
                JsonNode d = it.next();
                if (d != null && !d.isNull() && !d.isEmpty()) docs.add(d);
            }
        }
        return docs;
    }

    @Test
    void theIndexedJobFailsOnBadInputAndHasTheVolumesItMounts() throws Exception {
        List<JsonNode> docs = k8sDocuments();
        JsonNode job = docs.stream().filter(d -> d.path("kind").asText().equals("Job")).findFirst().orElseThrow();
        assertEquals("batch/v1", job.path("apiVersion").asText());
        JsonNode spec = job.path("spec");
        assertEquals("Indexed", spec.path("completionMode").asText());
        JsonNode pod = spec.path("template").path("spec");
        assertEquals("Never", pod.path("restartPolicy").asText(), "podFailurePolicy requires restartPolicy Never");
        JsonNode container = pod.path("containers").get(0);
        String name = container.path("name").asText();

        // exit code 2 (bad input) fails the Job: a rule FailJob on exit codes In [2] of this container
        boolean failOn2 = false;
        for (JsonNode r : spec.path("podFailurePolicy").path("rules")) {
            JsonNode ec = r.path("onExitCodes");
            if (r.path("action").asText().equals("FailJob") && ec.path("operator").asText().equals("In")
                    && ec.path("containerName").asText().equals(name)) {
                for (JsonNode v : ec.path("values")) failOn2 |= v.asInt() == 2;
            }
            if (!ec.isMissingNode()) {
                for (JsonNode v : ec.path("values")) assertNotEquals(0, v.asInt(), "0 is not a failure code");
            }
        }
        assertTrue(failOn2, "no FailJob rule for exit code 2: " + spec.path("podFailurePolicy"));

        // the shard count in the arguments is the Job's completions
        List<String> args = new ArrayList<>();
        container.path("args").forEach(a -> args.add(a.asText()));
        String shard = args.get(args.indexOf("--shard") + 1);
        assertEquals("$(JOB_COMPLETION_INDEX)/" + spec.path("completions").asInt(), shard);

        // every claim the pod mounts is declared in the file; the sweep directory's is ReadWriteMany
        Map<String, JsonNode> claims = new HashMap<>();
        for (JsonNode d : docs) {
            if (d.path("kind").asText().equals("PersistentVolumeClaim")) claims.put(d.path("metadata").path("name").asText(), d);
        }
        String out = args.get(args.indexOf("--out") + 1);
        boolean outMounted = false;
        for (JsonNode v : pod.path("volumes")) {
            String claim = v.path("persistentVolumeClaim").path("claimName").asText();
            assertTrue(claims.containsKey(claim), "volume " + v + " names an undeclared claim");
            for (JsonNode m : container.path("volumeMounts")) {
                if (!m.path("name").asText().equals(v.path("name").asText()) || !out.startsWith(m.path("mountPath").asText() + "/")) continue;
                outMounted = true;
                assertFalse(m.path("readOnly").asBoolean(false), "the sweep directory is written");
                List<String> modes = new ArrayList<>();
                claims.get(claim).path("spec").path("accessModes").forEach(x -> modes.add(x.asText()));
                assertTrue(modes.contains("ReadWriteMany"), "every index writes the sweep directory: " + modes);
                assertFalse(claims.get(claim).path("spec").path("resources").path("requests").path("storage").asText().isEmpty());
            }
        }
        assertTrue(outMounted, "--out " + out + " is on no mounted volume");

        // the heap leaves the JVM room under the memory limit
        String heap = null;
        for (JsonNode e : container.path("env")) if (e.path("name").asText().equals("G2G_HEAP")) heap = e.path("value").asText();
        assertNotNull(heap);
        assertTrue(gib(heap) <= 0.8 * gib(container.path("resources").path("limits").path("memory").asText()), heap);
    }

    /** "12g" or "16Gi" in GiB. */
    static double gib(String s) {
        Matcher m = Pattern.compile("(\\d+)([gGmM])i?").matcher(s.trim());
        assertTrue(m.matches(), s);
        double v = Double.parseDouble(m.group(1));
        return m.group(2).equalsIgnoreCase("g") ? v : v / 1024;
    }
}
