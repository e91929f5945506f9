package org.g2g.data;

import org.g2g.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.g2g.data.TestFiles.*;
import static org.junit.jupiter.api.Assertions.*;

class DataLocatorTest {
    @TempDir Path tmp;
    final Map<String, String> env = new HashMap<>();
    final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    final PrintStream log = new PrintStream(logBytes, true);

    /** Records install attempts; optionally "installs" by writing the files into the Debian dir. */
    final class FakeInstaller implements Installer {
        String reason;
        boolean writesFiles = true;
        int calls;

        @Override public String unavailableReason() { return reason; }

        @Override public boolean install(String pkg, PrintStream out) {
            calls++;
            assertEquals("dataset-fashion-mnist", pkg);
            out.println("fake apt: installing " + pkg);
            if (!writesFiles) return false;
            try {
                idxSet(debian(), 7, 3, true);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return true;
        }
    }

    final FakeInstaller installer = new FakeInstaller();

    Path work() { return tmp.resolve("work"); }
    Path debian() { return tmp.resolve("usr/share/datasets/fashion-mnist"); }

    DataLocator locator() { return new DataLocator(env::get, work(), debian(), installer); }

    Dataset load(String name, Path dir) { return locator().find(name, dir, "none", log); }

    @Test void explicitDirWithOfficialGzipNames() throws IOException {
        idxSet(tmp.resolve("d"), 6, 2, true);
        Dataset d = load("fashion-mnist", tmp.resolve("d"));
        assertEquals("fashion-mnist", d.name());
        assertEquals(6, d.train().n());
        assertEquals(2, d.test().n());
        assertEquals(12, d.features());
        assertEquals(10, d.classes());
        assertTrue(logBytes.toString().contains("fashion-mnist from " + tmp.resolve("d")), logBytes.toString());
        assertEquals(0, installer.calls);
    }

    @Test void alternativeNames() throws IOException {
        idxSet(tmp.resolve("kaggle"), 5, 2, "", ".", "t10k");   // train-images.idx3-ubyte
        idxSet(tmp.resolve("test"), 5, 2, ".gz", "-", "test"); // test-images-idx3-ubyte.gz
        idxSet(tmp.resolve("raw"), 5, 2, "", "-", "t10k");      // unzipped official names
        for (String d : new String[]{"kaggle", "test", "raw"}) assertEquals(5, load("mnist", tmp.resolve(d)).train().n(), d);
    }

    @Test void explicitDirAcceptsNameSubdirAndTorchvisionLayout() throws IOException {
        idxSet(tmp.resolve("a/mnist"), 4, 2, true);
        idxSet(tmp.resolve("b/FashionMNIST/raw"), 3, 2, false);
        assertEquals(4, load("mnist", tmp.resolve("a")).train().n());
        assertEquals(3, load("fashion-mnist", tmp.resolve("b")).train().n());
    }

    @Test void cifarFromParentDirs() throws IOException {
        cifar10Set(tmp.resolve("c/cifar-10-batches-bin"), 2);
        assertEquals(10, load("cifar10", tmp.resolve("c")).train().n());
        assertEquals(10, load("cifar-10", tmp.resolve("c/cifar-10-batches-bin")).train().n());
        env.put("G2G_DATA", tmp.resolve("root").toString());
        cifar10Set(tmp.resolve("root/cifar10/cifar-10-batches-bin"), 1);
        assertEquals(5, load("cifar10", null).train().n());
    }

    @Test void searchOrderEnvThenWorkDirThenDebian() throws IOException {
        idxSet(debian(), 3, 1, true);
        assertEquals(3, load("fashion-mnist", null).train().n());
        idxSet(work().resolve("data/fashion-mnist"), 4, 1, true);
        assertEquals(4, load("fashion-mnist", null).train().n());
        env.put("G2G_DATA", tmp.resolve("g2g").toString());
        assertEquals(4, load("fashion-mnist", null).train().n(), "G2G_DATA set but empty: falls through");
        idxSet(tmp.resolve("g2g/fashion-mnist"), 5, 1, true);
        assertEquals(5, load("fashion-mnist", null).train().n());
        assertEquals(0, installer.calls);
    }

    @Test void debianDirIsOnlyForFashionMnist() throws IOException {
        idxSet(debian(), 3, 1, true);
        installer.reason = "disabled by G2G_NO_INSTALL=1";
        UserError e = assertThrows(UserError.class, () -> load("mnist", null));
        assertTrue(e.getMessage().contains("dataset mnist: not found") && e.getMessage().contains("--data DIR")
                && e.getMessage().contains("train-images-idx3-ubyte.gz"), e.getMessage());
        assertFalse(e.getMessage().contains("apt-get"), "no Debian package for MNIST: " + e.getMessage());
        assertEquals(0, installer.calls);
    }

    @Test void installsFashionMnistWhenMissingThenLooksAgain() {
        Dataset d = load("fashion-mnist", null);
        assertEquals(7, d.train().n());
        assertEquals(1, installer.calls);
        String out = logBytes.toString();
        assertTrue(out.contains("installing dataset-fashion-mnist") && out.contains("fake apt"), out);
    }

    @Test void noInstallForExplicitDir() throws IOException {
        Files.createDirectories(tmp.resolve("empty"));
        UserError e = assertThrows(UserError.class, () -> load("fashion-mnist", tmp.resolve("empty")));
        assertTrue(e.getMessage().startsWith("--data " + tmp.resolve("empty")) && e.getMessage().contains("missing")
                && e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
        assertEquals(0, installer.calls);
    }

    @Test void notFoundExplainsHowToGetFashionMnist() {
        installer.reason = "not running as root";
        UserError e = assertThrows(UserError.class, () -> load("fashion-mnist", null));
        String m = e.getMessage();
        assertTrue(m.contains("not found") && m.contains(work().resolve("data/fashion-mnist").toString())
                && m.contains(debian().toString()) && m.contains("$G2G_DATA unset")
                && m.contains("automatic install skipped: not running as root")
                && m.contains("apt-get install dataset-fashion-mnist") && m.contains("--data DIR")
                && m.contains("t10k-labels-idx1-ubyte.gz"), m);
        assertFalse(m.contains("\n"));
        assertEquals(0, installer.calls);
    }

    @Test void failedInstallIsReported() {
        installer.writesFiles = false;
        UserError e = assertThrows(UserError.class, () -> load("fashion-mnist", null));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist failed"), e.getMessage());
        assertEquals(1, installer.calls);
    }

    @Test void partialDirectoryIsPointedOut() throws IOException {
        installer.reason = "disabled";
        idxSet(work().resolve("data/mnist"), 3, 1, true);
        Files.delete(work().resolve("data/mnist/t10k-images-idx3-ubyte.gz"));
        UserError e = assertThrows(UserError.class, () -> load("mnist", null));
        assertTrue(e.getMessage().contains("has only some files (missing t10k-images-idx3-ubyte.gz)"), e.getMessage());
    }

    @Test void cifarMissingNamesTheGap() throws IOException {
        cifar10Set(tmp.resolve("c/cifar-10-batches-bin"), 1);
        Files.delete(tmp.resolve("c/cifar-10-batches-bin/test_batch.bin"));
        UserError e = assertThrows(UserError.class, () -> load("cifar10", tmp.resolve("c")));
        assertTrue(e.getMessage().contains("missing cifar-10-batches-bin/test_batch.bin")
                && e.getMessage().contains("cifar-10-binary.tar.gz"), e.getMessage());
        e = assertThrows(UserError.class, () -> load("cifar100", tmp.resolve("c")));
        assertTrue(e.getMessage().contains("train.bin") && e.getMessage().contains("cifar-100-binary.tar.gz"), e.getMessage());
    }

    @Test void badDataDirAndOptions() throws IOException {
        UserError e = assertThrows(UserError.class, () -> load("mnist", tmp.resolve("nowhere")));
        assertTrue(e.getMessage().contains("--data " + tmp.resolve("nowhere") + ": not found"), e.getMessage());
        Path file = write(tmp.resolve("afile"), new byte[1]);
        e = assertThrows(UserError.class, () -> load("mnist", file));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
        e = assertThrows(UserError.class, () -> load("imagenet", null));
        assertTrue(e.getMessage().contains("--dataset imagenet: unknown") && e.getMessage().contains("cifar100"), e.getMessage());
        e = assertThrows(UserError.class, () -> locator().find("mnist", null, "zscore", log));
        assertTrue(e.getMessage().contains("--standardize zscore"), e.getMessage());
    }

    @Test void corruptFileSurfacesAsUserError() throws IOException {
        idxSet(tmp.resolve("d"), 6, 2, true);
        write(tmp.resolve("d/train-labels-idx1-ubyte.gz"), new byte[]{0x1f, (byte) 0x8b, 1, 2, 3});
        UserError e = assertThrows(UserError.class, () -> load("fashion-mnist", tmp.resolve("d")));
        assertTrue(e.getMessage().contains("train-labels-idx1-ubyte.gz: corrupt gzip"), e.getMessage());
    }

    @Test void standardiseOptionIsApplied() throws IOException {
        idxSet(tmp.resolve("d"), 50, 10, true);
        Dataset d = locator().find("mnist", tmp.resolve("d"), "global", log);
        double sum = 0;
        for (float v : d.train().x()) sum += v;
        assertEquals(0, sum / d.train().x().length, 1e-5);
        assertTrue(logBytes.toString().contains("standardise global"), logBytes.toString());
    }

    @Test void aptInstallerCanBeDisabled() {
        Map<String, String> e = Map.of("G2G_NO_INSTALL", "1", "PATH", "/usr/bin:/bin");
        assertEquals("disabled by G2G_NO_INSTALL=1", new AptInstaller(e::get).unavailableReason());
        String noApt = new AptInstaller(Map.of("PATH", tmp.toString())::get).unavailableReason();
        assertNotNull(noApt, "no apt-get on an empty PATH");
    }
}
