package org.g2g.data;

import org.g2g.UserError;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.g2g.data.TestFiles.*;
import static org.junit.jupiter.api.Assertions.*;

class IdxReaderTest {
    @TempDir Path dir;

    private void roundTrip(boolean gz, String imgName, String labName) throws IOException {
        int n = 5, r = 4, c = 3;
        byte[] px = randomBytes(n * r * c, 42);
        byte[] lab = {0, 9, 3, 3, 7};
        byte[] img = idxImages(0x803, n, r, c, px), lb = idxLabels(0x801, n, lab);
        Path fi = write(dir.resolve(imgName), gz ? gzip(img) : img);
        Path fl = write(dir.resolve(labName), gz ? gzip(lb) : lb);
        Split s = IdxReader.readSplit(fi, fl, 10);
        assertEquals(n, s.n());
        assertEquals(r * c, s.features());
        assertArrayEquals(new int[]{0, 9, 3, 3, 7}, s.y());
        for (int i = 0; i < px.length; i++) assertEquals((px[i] & 0xff) / 255.0, s.x()[i], 1e-7, "pixel " + i);
    }

    @Test void rawRoundTrip() throws IOException { roundTrip(false, "i-idx3-ubyte", "l-idx1-ubyte"); }

    @Test void gzipRoundTrip() throws IOException { roundTrip(true, "i-idx3-ubyte.gz", "l-idx1-ubyte.gz"); }

    @Test void gzipDetectedByContentNotName() throws IOException {
        roundTrip(true, "gzipped-without-suffix", "labels-too");
        roundTrip(false, "raw-but-named.gz", "raw-labels.gz");
    }

    @Test void multiMemberGzip() throws IOException {
        // concatenated gzip members are valid gzip; the trailer's size hint covers only the last one
        byte[] px = randomBytes(6 * 20, 5);
        byte[] img = idxImages(0x803, 6, 4, 5, px);
        byte[] a = gzip(Arrays.copyOf(img, 50)), b = gzip(Arrays.copyOfRange(img, 50, img.length));
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        IdxReader.Images im = IdxReader.readImages(write(dir.resolve("multi.gz"), both));
        assertEquals(6, im.n());
        assertArrayEquals(px, Arrays.copyOfRange(im.bytes(), im.offset(), im.offset() + px.length));
    }

    @Test void pixelExtremes() throws IOException {
        Path fi = write(dir.resolve("i"), idxImages(0x803, 1, 1, 2, new byte[]{0, (byte) 255}));
        Path fl = write(dir.resolve("l"), idxLabels(0x801, 1, new byte[]{1}));
        assertArrayEquals(new float[]{0f, 1f}, IdxReader.readSplit(fi, fl, 10).x());
    }

    // ---- corrupt inputs: each must be a UserError naming the file and the reason ----

    private static void assertFails(Path file, String reason, Runnable r) {
        UserError e = assertThrows(UserError.class, r::run);
        assertTrue(e.getMessage().contains(file.getFileName().toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().toLowerCase().contains(reason), "says '" + reason + "': " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test void missingFile() {
        Path f = dir.resolve("nope-idx3-ubyte.gz");
        assertFails(f, "not found", () -> IdxReader.readImages(f));
    }

    @Test void directoryInsteadOfFile() {
        assertFails(dir, "directory", () -> IdxReader.readImages(dir));
    }

    @Test void badGzipData() throws IOException {
        byte[] junk = randomBytes(100, 7);
        junk[0] = 0x1f; junk[1] = (byte) 0x8b;
        Path f = write(dir.resolve("junk.gz"), junk);
        UserError e = assertThrows(UserError.class, () -> IdxReader.readImages(f));
        assertTrue(e.getMessage().contains("junk.gz") && e.getMessage().contains("corrupt gzip"), e.getMessage());
        assertNotNull(e.getCause(), "keeps the cause");
    }

    @Test void truncatedGzip() throws IOException {
        byte[] gz = gzip(idxImages(0x803, 10, 4, 3, randomBytes(120, 1)));
        Path f = write(dir.resolve("cut.gz"), Arrays.copyOf(gz, gz.length / 2));
        assertFails(f, "corrupt gzip", () -> IdxReader.readImages(f));
    }

    @Test void gzipWithBadCrc() throws IOException {
        byte[] gz = gzip(idxImages(0x803, 10, 4, 3, randomBytes(120, 1)));
        gz[gz.length - 6] ^= 0x55; // inside the CRC32 trailer
        Path f = write(dir.resolve("crc.gz"), gz);
        assertFails(f, "corrupt gzip", () -> IdxReader.readImages(f));
    }

    @Test void badMagic() throws IOException {
        Path f = write(dir.resolve("m"), idxImages(0x0000_0903, 1, 1, 1, new byte[1]));
        assertFails(f, "bad magic", () -> IdxReader.readImages(f));
    }

    @Test void labelFileGivenAsImages() throws IOException {
        Path f = write(dir.resolve("lab"), idxLabels(0x801, 16, new byte[16]));
        assertFails(f, "label file", () -> IdxReader.readImages(f));
        Path g = write(dir.resolve("img"), idxImages(0x803, 1, 1, 1, new byte[1]));
        assertFails(g, "image file", () -> IdxReader.readLabels(g));
    }

    @Test void htmlInsteadOfData() throws IOException {
        Path f = write(dir.resolve("page.gz"), "<!DOCTYPE html><html>404 not found</html>".getBytes());
        assertFails(f, "html", () -> IdxReader.readImages(f));
    }

    @Test void zeroAndNegativeDims() throws IOException {
        int[][] dims = {{0, 2, 2}, {2, 0, 2}, {2, 2, -1}, {-5, 2, 2}};
        for (int[] d : dims) {
            Path f = write(dir.resolve("d" + Arrays.toString(d)), idxImages(0x803, d[0], d[1], d[2], new byte[16]));
            assertFails(f, "bad dimensions", () -> IdxReader.readImages(f));
        }
        Path l = write(dir.resolve("l0"), idxLabels(0x801, 0, new byte[0]));
        assertFails(l, "bad dimensions", () -> IdxReader.readLabels(l));
    }

    @Test void implausibleDims() throws IOException {
        Path f = write(dir.resolve("huge"), idxImages(0x803, 1, 1 << 16, 1 << 16, new byte[4]));
        assertFails(f, "implausible", () -> IdxReader.readImages(f));
    }

    @Test void truncatedPixels() throws IOException {
        Path f = write(dir.resolve("train-images-idx3-ubyte"), idxImages(0x803, 10, 4, 3, new byte[100]));
        assertFails(f, "truncated", () -> IdxReader.readImages(f));
        UserError e = assertThrows(UserError.class, () -> IdxReader.readImages(f));
        assertTrue(e.getMessage().contains("10 images of 4x3 but only 100 bytes"), e.getMessage());
    }

    @Test void truncatedHeader() throws IOException {
        Path f = write(dir.resolve("short"), new byte[]{0, 0, 8, 3, 0, 0});
        assertFails(f, "truncated", () -> IdxReader.readImages(f));
        Path g = write(dir.resolve("empty"), new byte[0]);
        assertFails(g, "truncated", () -> IdxReader.readLabels(g));
    }

    @Test void truncatedLabels() throws IOException {
        Path f = write(dir.resolve("train-labels-idx1-ubyte"), idxLabels(0x801, 10, new byte[9]));
        assertFails(f, "truncated", () -> IdxReader.readLabels(f));
    }

    @Test void trailingGarbageRejected() throws IOException {
        Path f = write(dir.resolve("long-img"), idxImages(0x803, 2, 2, 2, new byte[9]));
        assertFails(f, "trailing", () -> IdxReader.readImages(f));
        Path g = write(dir.resolve("long-lab"), idxLabels(0x801, 2, new byte[3]));
        assertFails(g, "trailing", () -> IdxReader.readLabels(g));
    }

    @Test void countMismatch() throws IOException {
        Path fi = write(dir.resolve("imgs"), idxImages(0x803, 3, 1, 1, new byte[3]));
        Path fl = write(dir.resolve("labs"), idxLabels(0x801, 2, new byte[2]));
        UserError e = assertThrows(UserError.class, () -> IdxReader.readSplit(fi, fl, 10));
        assertTrue(e.getMessage().contains("imgs") && e.getMessage().contains("labs")
                && e.getMessage().contains("mismatch") && e.getMessage().contains("3 images but 2 labels"), e.getMessage());
    }

    @Test void labelOutOfRange() throws IOException {
        Path fi = write(dir.resolve("imgs"), idxImages(0x803, 3, 1, 1, new byte[3]));
        Path fl = write(dir.resolve("labs"), idxLabels(0x801, 3, new byte[]{1, 10, (byte) 200}));
        assertFails(fl, "out of range", () -> IdxReader.readSplit(fi, fl, 10));
        UserError e = assertThrows(UserError.class, () -> IdxReader.readSplit(fi, fl, 10));
        assertTrue(e.getMessage().contains("label 10 at index 1") && e.getMessage().contains("2 bad labels"), e.getMessage());
    }

    @Test void unreadableFileKeepsCause() throws IOException {
        Path f = write(dir.resolve("secret"), idxLabels(0x801, 1, new byte[1]));
        f.toFile().setReadable(false);
        Assumptions.assumeFalse(Files.isReadable(f), "running as root: every file is readable");
        UserError e = assertThrows(UserError.class, () -> IdxReader.readLabels(f));
        assertTrue(e.getMessage().contains("secret") && e.getMessage().contains("permission"), e.getMessage());
        assertNotNull(e.getCause());
    }
}
