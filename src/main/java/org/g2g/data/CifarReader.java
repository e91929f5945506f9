package org.g2g.data;

import org.g2g.UserError;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the CIFAR "binary version" files. Each record is the label byte(s) followed by
 * 3072 pixel bytes (1024 red, 1024 green, 1024 blue, row-major 32x32); we keep that
 * channel-major order as the feature order, which an MLP does not care about.
 * CIFAR-10: 1 label byte. CIFAR-100: coarse then fine label byte; we train on the fine
 * labels (100 classes) and check the coarse one only as a sanity check on the file.
 */
public final class CifarReader {
    private CifarReader() {}

    public static final int PIXELS = 3 * 32 * 32;

    public enum Variant {
        CIFAR10("cifar10", "CIFAR-10", "cifar-10-batches-bin", 1, 10,
                List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"),
                List.of("test_batch.bin")),
        CIFAR100("cifar100", "CIFAR-100", "cifar-100-binary", 2, 100,
                List.of("train.bin"), List.of("test.bin"));

        public final String name, title, subdir;
        final int labelBytes, classes;
        public final List<String> trainFiles, testFiles;

        Variant(String name, String title, String subdir, int labelBytes, int classes,
                List<String> trainFiles, List<String> testFiles) {
            this.name = name; this.title = title; this.subdir = subdir;
            this.labelBytes = labelBytes; this.classes = classes;
            this.trainFiles = trainFiles; this.testFiles = testFiles;
        }

        int recordSize() { return labelBytes + PIXELS; }

        List<String> allFiles() {
            List<String> all = new ArrayList<>(trainFiles);
            all.addAll(testFiles);
            return all;
        }

        /**
         * The directory holding this variant's .bin files: dir itself, or dir/subdir as
         * unpacked from the official tarball; null when neither has all of them.
         */
        public Path findIn(Path dir) {
            for (Path d : List.of(dir, dir.resolve(subdir))) {
                if (allFiles().stream().allMatch(f -> Files.isRegularFile(d.resolve(f)))) return d;
            }
            return null;
        }

        /** Files missing from dir (for error messages), relative names. */
        public List<String> missingIn(Path dir) {
            return allFiles().stream().filter(f -> !Files.isRegularFile(dir.resolve(f))).toList();
        }
    }

    /** Reads the variant from dir (the directory containing the .bin files or its parent). */
    public static Dataset read(Variant v, Path dir) {
        Path d = v.findIn(dir);
        if (d == null) {
            throw new UserError("data directory " + dir + ": " + v.title + " files missing: "
                    + String.join(", ", v.missingIn(dir)) + " (looked in it and in " + v.subdir + "/ below it)");
        }
        Split train = readBatches(v, d, v.trainFiles);
        Split test = readBatches(v, d, v.testFiles);
        return new Dataset(v.name, PIXELS, v.classes, train, test);
    }

    /** Reads and concatenates batch files (all fully validated before any conversion). */
    static final int MAX_RECORDS = 50000;

    public static Split readBatches(Variant v, Path dir, List<String> names) {
        int rec = v.recordSize();
        List<byte[]> data = new ArrayList<>();
        long total = 0;
        for (String name : names) {
            Path file = dir.resolve(name);
            // no header: at most the largest official file (50000 records), and one byte more to tell a larger one
            byte[] b = DataFiles.read(file, 0, h -> (long) MAX_RECORDS * rec);
            if (b.length == 0) throw DataFiles.fail(file, "empty file");
            if (b.length % rec != 0) {
                throw DataFiles.fail(file, "size " + b.length + " bytes is not a multiple of the " + rec + "-byte "
                        + v.title + " record (" + v.labelBytes + " label byte" + (v.labelBytes > 1 ? "s" : "")
                        + " + " + PIXELS + " pixels): truncated, or not a " + v.title + " binary file?");
            }
            checkLabels(v, file, b);
            data.add(b);
            total += b.length / rec;
        }
        if (total * PIXELS > Integer.MAX_VALUE) {
            throw DataFiles.fail(dir.resolve(names.get(0)), "too many records (" + total + ") for one array");
        }
        int n = (int) total;
        float[] x = new float[n * PIXELS];
        int[] y = new int[n];
        int s = 0;
        for (byte[] b : data) {
            for (int off = 0; off < b.length; off += rec, s++) {
                y[s] = b[off + v.labelBytes - 1] & 0xff; // fine label is the last label byte
                DataFiles.toUnit(b, off + v.labelBytes, x, s * PIXELS, PIXELS);
            }
        }
        return new Split(x, y, n, PIXELS);
    }

    private static void checkLabels(Variant v, Path file, byte[] b) {
        int rec = v.recordSize();
        for (int off = 0, r = 0; off < b.length; off += rec, r++) {
            int fine = b[off + v.labelBytes - 1] & 0xff;
            if (fine >= v.classes) {
                throw DataFiles.fail(file, "label " + fine + (v.labelBytes > 1 ? " (fine)" : "") + " at record " + r
                        + " out of range [0, " + v.classes + ")");
            }
            if (v.labelBytes > 1 && (b[off] & 0xff) >= 20) {
                throw DataFiles.fail(file, "label " + (b[off] & 0xff) + " (coarse) at record " + r
                        + " out of range [0, 20)");
            }
        }
    }
}
