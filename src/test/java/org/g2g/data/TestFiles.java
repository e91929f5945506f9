package org.g2g.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX and CIFAR files byte by byte, independently of the readers under test. */
final class TestFiles {
    private TestFiles() {}

    static byte[] idxImages(int magic, int n, int rows, int cols, byte[] pixels) {
        ByteBuffer b = ByteBuffer.allocate(16 + pixels.length);
        b.putInt(magic).putInt(n).putInt(rows).putInt(cols).put(pixels);
        return b.array();
    }

    static byte[] idxLabels(int magic, int n, byte[] labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(magic).putInt(n).put(labels);
        return b.array();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(data);
        }
        return bos.toByteArray();
    }

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] labels(int n, int classes, long seed) {
        Random r = new Random(seed);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) r.nextInt(classes);
        return b;
    }

    static Path write(Path file, byte[] data) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, data);
    }

    /** A valid Fashion-MNIST-style set (n train, m test, 4x3 images) in dir, official names. */
    static void idxSet(Path dir, int n, int m, boolean gz) throws IOException {
        idxSet(dir, n, m, gz ? ".gz" : "", "-", "t10k");
    }

    static void idxSet(Path dir, int n, int m, String ext, String sep, String testPrefix) throws IOException {
        int r = 4, c = 3;
        byte[][] files = {
                idxImages(0x803, n, r, c, randomBytes(n * r * c, 1)), idxLabels(0x801, n, labels(n, 10, 2)),
                idxImages(0x803, m, r, c, randomBytes(m * r * c, 3)), idxLabels(0x801, m, labels(m, 10, 4))};
        String[] names = {"train-images" + sep + "idx3-ubyte", "train-labels" + sep + "idx1-ubyte",
                testPrefix + "-images" + sep + "idx3-ubyte", testPrefix + "-labels" + sep + "idx1-ubyte"};
        for (int i = 0; i < 4; i++) {
            write(dir.resolve(names[i] + ext), ext.equals(".gz") ? gzip(files[i]) : files[i]);
        }
    }

    /** CIFAR records: labelBytes label bytes from labels[][], then 3072 pixel bytes. */
    static byte[] cifar(int[][] labels, byte[] pixels) {
        int n = labels.length, lb = labels[0].length;
        ByteBuffer b = ByteBuffer.allocate(n * (lb + 3072));
        for (int s = 0; s < n; s++) {
            for (int l : labels[s]) b.put((byte) l);
            b.put(pixels, s * 3072, 3072);
        }
        return b.array();
    }

    /** A valid CIFAR-10 set: k records per file. */
    static void cifar10Set(Path dir, int k) throws IOException {
        for (String f : CifarReader.Variant.CIFAR10.allFiles()) {
            int[][] lab = new int[k][1];
            for (int s = 0; s < k; s++) lab[s][0] = (s * 7 + f.length()) % 10;
            write(dir.resolve(f), cifar(lab, randomBytes(k * 3072, f.hashCode())));
        }
    }
}
