package org.g2g.data;

import org.g2g.UserError;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads a whole data file into memory, gunzipping it when it starts with the gzip magic
 * (1f 8b). Detection is by content, not by name: downloads are often renamed or
 * transparently decompressed by browsers while keeping ".gz".
 * Bulk reads only: the largest file we load (CIFAR or Fashion-MNIST train) is under 200 MB,
 * and one readAllBytes beats any per-byte stream by orders of magnitude.
 */
final class DataFiles {
    private DataFiles() {}

    /** Pixel byte -> float in [0,1]; a table avoids a divide per pixel. */
    private static final float[] UNIT = new float[256];
    static {
        for (int v = 0; v < 256; v++) UNIT[v] = v / 255f;
    }

    static byte[] read(Path file) {
        if (Files.isDirectory(file)) throw fail(file, "is a directory, expected a file");
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw fail(file, "not found", e);
        } catch (AccessDeniedException e) {
            throw fail(file, "permission denied", e);
        } catch (IOException e) {
            throw fail(file, "cannot read: " + e.getMessage(), e);
        }
        boolean gzip = raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b;
        return gzip ? gunzip(file, raw) : raw;
    }

    private static byte[] gunzip(Path file, byte[] raw) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw), 1 << 16)) {
            // The trailer's ISIZE (uncompressed size mod 2^32) lets us inflate straight into an
            // array of the right size instead of growing and copying buffers; it is only a hint
            // (a multi-member file has one per member), so whatever remains is read after it,
            // and that last read also makes GZIPInputStream check the CRC.
            int hint = sizeHint(raw);
            byte[] out = new byte[hint];
            int n = in.readNBytes(out, 0, hint);
            byte[] rest = in.readAllBytes();
            if (n < hint) return Arrays.copyOf(out, n);
            if (rest.length == 0) return out;
            byte[] all = Arrays.copyOf(out, Math.addExact(n, rest.length));
            System.arraycopy(rest, 0, all, n, rest.length);
            return all;
        } catch (EOFException e) {
            throw fail(file, "corrupt gzip: compressed data ends early (truncated download?)", e);
        } catch (ZipException e) {
            throw fail(file, "corrupt gzip: " + e.getMessage(), e);
        } catch (IOException e) {
            throw fail(file, "corrupt gzip: " + e.getMessage(), e);
        }
    }

    private static int sizeHint(byte[] gz) {
        int i = gz.length - 4;
        long isize = i < 10 ? 0 : (gz[i] & 0xffL) | (gz[i + 1] & 0xffL) << 8 | (gz[i + 2] & 0xffL) << 16 | (gz[i + 3] & 0xffL) << 24;
        // a truncated file ends in arbitrary bytes: only trust claims that are cheap if wrong
        // (image data compresses < 10x; beyond the cap we fall back to growing buffers)
        return isize <= Math.min(1 << 28, gz.length * 64L) ? (int) isize : 0;
    }

    /** Scales len pixel bytes from src[srcOff..] into dst[dstOff..] as floats in [0,1]. */
    static void toUnit(byte[] src, int srcOff, float[] dst, int dstOff, int len) {
        for (int i = 0; i < len; i++) dst[dstOff + i] = UNIT[src[srcOff + i] & 0xff];
    }

    static UserError fail(Path file, String reason) {
        return new UserError("data file " + file + ": " + reason);
    }

    static UserError fail(Path file, String reason, Throwable cause) {
        return new UserError("data file " + file + ": " + reason, cause);
    }
}
