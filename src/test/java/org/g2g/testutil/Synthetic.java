package org.g2g.testutil;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * A separable stand-in for Fashion-MNIST written as real IDX files: each of the classes has
 * a random prototype image; samples are the prototype plus uniform noise, as uint8 pixels.
 */
public final class Synthetic {
    private Synthetic() {}

    public static Path fashionLike(Path dir, int nTrain, int nTest, int side, int classes, long seed) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(seed);
        int f = side * side;
        int[][] proto = new int[classes][f];
        for (int c = 0; c < classes; c++) for (int k = 0; k < f; k++) proto[c][k] = r.nextInt(256);
        write(dir, "train", nTrain, side, classes, proto, r);
        write(dir, "t10k", nTest, side, classes, proto, r);
        return dir;
    }

    private static void write(Path dir, String prefix, int n, int side, int classes, int[][] proto, Random r) throws IOException {
        int f = side * side;
        ByteBuffer img = ByteBuffer.allocate(16 + n * f).putInt(0x803).putInt(n).putInt(side).putInt(side);
        ByteBuffer lab = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n);
        for (int s = 0; s < n; s++) {
            int c = s % classes;
            lab.put((byte) c);
            for (int k = 0; k < f; k++) {
                int v = proto[c][k] + r.nextInt(161) - 80;
                img.put((byte) Math.max(0, Math.min(255, v)));
            }
        }
        Files.write(dir.resolve(prefix + "-images-idx3-ubyte.gz"), gzip(img.array()));
        Files.write(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), gzip(lab.array()));
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(bo)) {
            g.write(data);
        }
        return bo.toByteArray();
    }

    /**
     * A separable stand-in for CIFAR-10 in its binary format (data_batch_1..5.bin with perFile
     * records each, test_batch.bin with nTest): class prototypes plus noise, 3x32x32 pixels.
     */
    public static Path cifarLike(Path dir, int perFile, int nTest, long seed) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(seed);
        int f = 3072;
        int[][] proto = new int[10][f];
        for (int c = 0; c < 10; c++) for (int k = 0; k < f; k++) proto[c][k] = r.nextInt(256);
        for (int i = 1; i <= 6; i++) {
            int n = i <= 5 ? perFile : nTest;
            ByteBuffer b = ByteBuffer.allocate(n * (1 + f));
            for (int s = 0; s < n; s++) {
                int c = (s + i) % 10;
                b.put((byte) c);
                for (int k = 0; k < f; k++) b.put((byte) Math.max(0, Math.min(255, proto[c][k] + r.nextInt(161) - 80)));
            }
            Files.write(dir.resolve(i <= 5 ? "data_batch_" + i + ".bin" : "test_batch.bin"), b.array());
        }
        return dir;
    }
}
