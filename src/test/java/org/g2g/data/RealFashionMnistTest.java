package org.g2g.data;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Loads the real Fashion-MNIST from the Debian package location when it is installed. */
class RealFashionMnistTest {
    @Test void loadsRealFashionMnist() {
        assumeTrue(Files.isDirectory(DataLocator.DEBIAN_FASHION_DIR),
                DataLocator.DEBIAN_FASHION_DIR + " absent: `apt-get install dataset-fashion-mnist` to run this test");
        long t0 = System.nanoTime();
        Dataset d = DataLocator.load("fashion-mnist", DataLocator.DEBIAN_FASHION_DIR, "none", System.out);
        double secs = (System.nanoTime() - t0) / 1e9;
        // the time is printed, not asserted: speed is checked by benchmark commands, not unit tests
        System.out.printf("real Fashion-MNIST loaded in %.3f s%n", secs);
        assertEquals(60000, d.train().n());
        assertEquals(10000, d.test().n());
        assertEquals(784, d.features());
        assertEquals(10, d.classes());
        int[] trainCount = new int[10], testCount = new int[10];
        for (int y : d.train().y()) trainCount[y]++;
        for (int y : d.test().y()) testCount[y]++;
        for (int c = 0; c < 10; c++) {
            assertEquals(6000, trainCount[c], "train class " + c);
            assertEquals(1000, testCount[c], "test class " + c);
        }
        // published pixel statistics of the training set: mean 0.2860, std 0.3530
        double sum = 0, sq = 0;
        for (float v : d.train().x()) { assertTrue(v >= 0 && v <= 1); sum += v; sq += (double) v * v; }
        double n = d.train().x().length, mean = sum / n;
        assertEquals(0.2860, mean, 5e-4);
        assertEquals(0.3530, Math.sqrt(sq / n - mean * mean), 5e-4);
    }
}
