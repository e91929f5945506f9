package org.g2g.data;

import org.g2g.UserError;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Reads MNIST-style IDX files: idx3-ubyte images (magic 0x00000803, then n, rows, cols as
 * big-endian ints, then n*rows*cols pixel bytes) and idx1-ubyte labels (magic 0x00000801,
 * then n, then n label bytes). Raw or gzip (see {@link DataFiles}).
 *
 * <p>Trailing bytes after the promised data are rejected: the format has no padding, so
 * extra bytes mean the header is wrong (or two files were concatenated), and silently
 * training on a prefix would hide that.
 */
public final class IdxReader {
    private IdxReader() {}

    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;
    /** Larger than any real image set (CIFAR-size colour images are 3072); catches garbage headers. */
    static final int MAX_PIXELS_PER_IMAGE = 1 << 20;

    /** Decoded image file; pixels stay in the file's byte array starting at offset (no copy). */
    public record Images(Path file, int n, int rows, int cols, byte[] bytes, int offset) {
        public int features() { return rows * cols; }
    }

    public static Images readImages(Path file) {
        byte[] b = DataFiles.read(file, 16, h -> {
            ByteBuffer bb = ByteBuffer.wrap(h);
            int n = bb.getInt(4), rows = bb.getInt(8), cols = bb.getInt(12);
            if (bb.getInt(0) != IMAGES_MAGIC || n <= 0 || rows <= 0 || cols <= 0 || (long) rows * cols > MAX_PIXELS_PER_IMAGE) return -1;
            return 16 + (long) n * rows * cols;
        });
        ByteBuffer h = header(file, b, 16, "idx3-ubyte image");
        checkMagic(file, b, h.getInt(0), IMAGES_MAGIC, "idx3-ubyte images");
        int n = h.getInt(4), rows = h.getInt(8), cols = h.getInt(12);
        if (n <= 0 || rows <= 0 || cols <= 0) {
            throw DataFiles.fail(file, "bad dimensions in header: " + n + " images of " + rows + "x" + cols
                    + " (all must be positive)");
        }
        if ((long) rows * cols > MAX_PIXELS_PER_IMAGE) {
            throw DataFiles.fail(file, "implausible dimensions in header: images of " + rows + "x" + cols
                    + " (more than " + MAX_PIXELS_PER_IMAGE + " pixels each)");
        }
        long need = (long) n * rows * cols;
        long have = b.length - 16L;
        if (have < need) {
            throw DataFiles.fail(file, "truncated: header promises " + n + " images of " + rows + "x" + cols
                    + " but only " + have + " bytes of pixels (need " + need + ")");
        }
        if (have > need) {
            throw DataFiles.fail(file, "trailing garbage: " + (have - need) + " bytes after the " + n + " images of "
                    + rows + "x" + cols + " the header promises (wrong header or concatenated files?)");
        }
        return new Images(file, n, rows, cols, b, 16);
    }

    /** Labels as ints 0..255; range against the class count is checked by {@link #readSplit}. */
    public static int[] readLabels(Path file) {
        byte[] b = DataFiles.read(file, 8, h -> {
            ByteBuffer bb = ByteBuffer.wrap(h);
            return bb.getInt(0) != LABELS_MAGIC || bb.getInt(4) <= 0 ? -1 : 8 + (long) bb.getInt(4);
        });
        ByteBuffer h = header(file, b, 8, "idx1-ubyte label");
        checkMagic(file, b, h.getInt(0), LABELS_MAGIC, "idx1-ubyte labels");
        int n = h.getInt(4);
        if (n <= 0) throw DataFiles.fail(file, "bad dimensions in header: " + n + " labels (must be positive)");
        long have = b.length - 8L;
        if (have < n) {
            throw DataFiles.fail(file, "truncated: header promises " + n + " labels but only " + have + " bytes of labels");
        }
        if (have > n) {
            throw DataFiles.fail(file, "trailing garbage: " + (have - n) + " bytes after the " + n
                    + " labels the header promises (wrong header or concatenated files?)");
        }
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = b[8 + i] & 0xff;
        return y;
    }

    /** Reads a matching image and label file into a Split with pixels in [0,1]. */
    public static Split readSplit(Path imagesFile, Path labelsFile, int classes) {
        Images img = readImages(imagesFile);
        int[] y = readLabels(labelsFile);
        if (y.length != img.n()) {
            throw new UserError("data files " + imagesFile + " and " + labelsFile + ": count mismatch: "
                    + img.n() + " images but " + y.length + " labels");
        }
        checkLabels(labelsFile, y, classes, "index");
        float[] x = new float[img.n() * img.features()];
        DataFiles.toUnit(img.bytes(), img.offset(), x, 0, x.length);
        return new Split(x, y, img.n(), img.features());
    }

    static void checkLabels(Path file, int[] y, int classes, String where) {
        int bad = 0, first = -1;
        for (int i = 0; i < y.length; i++) {
            if (y[i] < 0 || y[i] >= classes) {
                if (bad++ == 0) first = i;
            }
        }
        if (bad > 0) {
            throw DataFiles.fail(file, "label " + y[first] + " at " + where + " " + first + " out of range [0, "
                    + classes + ")" + (bad > 1 ? " (" + bad + " bad labels in all)" : ""));
        }
    }

    private static ByteBuffer header(Path file, byte[] b, int size, String kind) {
        if (b.length < size) {
            throw DataFiles.fail(file, "truncated: " + b.length + " bytes, shorter than the " + size
                    + "-byte header of an " + kind + " file");
        }
        return ByteBuffer.wrap(b, 0, size); // big-endian by default, as IDX is
    }

    private static void checkMagic(Path file, byte[] b, int magic, int want, String kind) {
        if (magic == want) return;
        String hint = "";
        if (magic == IMAGES_MAGIC) hint = "; this looks like an image file (images and labels swapped?)";
        else if (magic == LABELS_MAGIC) hint = "; this looks like a label file (images and labels swapped?)";
        else if (b[0] == '<') hint = "; this looks like an HTML page (a failed download?)";
        throw DataFiles.fail(file, String.format("bad magic 0x%08x, expected 0x%08x (%s)%s", magic, want, kind, hint));
    }
}
