package org.g2g;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Whether a checkout has uncommitted changes, on a real git repository made here. */
class VersionTest {
    @TempDir Path tmp;

    private void git(Path dir, String... args) throws Exception {
        String[] cmd = new String[args.length + 3];
        cmd[0] = "git";
        cmd[1] = "-C";
        cmd[2] = dir.toString();
        System.arraycopy(args, 0, cmd, 3, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    }

    @Test
    void gitDirtyTellsCleanChangedAndUntrackedApart() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("repo"));
        assertNull(Version.gitDirty(repo), "not a checkout: unknown");
        git(repo, "init", "-q");
        git(repo, "config", "user.email", "t@example.org");
        git(repo, "config", "user.name", "t");
        Files.writeString(repo.resolve("a.txt"), "one\n");
        Files.writeString(repo.resolve(".gitignore"), "runs/\n");
        git(repo, "add", "a.txt", ".gitignore");
        git(repo, "commit", "-q", "-m", "first");
        assertEquals(Boolean.FALSE, Version.gitDirty(repo));
        Files.createDirectories(repo.resolve("runs"));
        Files.writeString(repo.resolve("runs/x"), "ignored\n");
        assertEquals(Boolean.FALSE, Version.gitDirty(repo), "ignored files are no change");
        Files.writeString(repo.resolve("a.txt"), "two\n");
        assertEquals(Boolean.TRUE, Version.gitDirty(repo), "a changed tracked file");
        git(repo, "checkout", "-q", "--", "a.txt");
        assertEquals(Boolean.FALSE, Version.gitDirty(repo));
        Files.writeString(repo.resolve("New.java"), "class New {}\n");
        assertEquals(Boolean.TRUE, Version.gitDirty(repo), "an untracked source file");
    }

    @Test
    void commandLineIsQuotedForAShell() {
        assertEquals("plain-arg_1.0", Invocation.shellQuote("plain-arg_1.0"));
        assertEquals("'a b'", Invocation.shellQuote("a b"));
        assertEquals("'it'\\''s'", Invocation.shellQuote("it's"));
        assertEquals("''", Invocation.shellQuote(""));
    }
}
