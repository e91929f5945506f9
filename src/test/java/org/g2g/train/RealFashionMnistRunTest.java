package org.g2g.train;

import org.g2g.config.RunConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The default G2GNet on a subset of the real Fashion-MNIST, one epoch, where the Debian package is installed. */
class RealFashionMnistRunTest {
    static final Path DIR = Path.of("/usr/share/datasets/fashion-mnist");

    @Test
    void oneEpochOnASubsetReaches80Percent(@TempDir Path tmp) {
        assumeTrue(Files.isDirectory(DIR), "Fashion-MNIST not installed at " + DIR + " (apt-get install dataset-fashion-mnist)");
        RunConfig c = RunConfig.defaults().with(Map.of("data", DIR.toString(), "epochs", 1, "limit-train", 30000,
                "device", "cpu"));
        RunSummary s = TrainRun.execute(c, tmp.resolve("run"), false, false,
                new PrintStream(new ByteArrayOutputStream()), TrainListener.NONE);
        double acc = s.testAccuracy();
        System.out.printf("real Fashion-MNIST, default G2GNet, 30000 images, 1 epoch: test accuracy %.4f, %.0f samples/s%n",
                acc, s.trainSamplesPerSecond());
        assertTrue(acc >= 0.80, "test accuracy " + acc);
    }
}
