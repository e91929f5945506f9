package org.g2g.data;

import org.g2g.UserError;

import java.io.BufferedInputStream;
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

    /** How many bytes a file of some format holds in all, from its first bytes; -1 when they are not a valid header. */
    interface Size { long total(byte[] header); }

    /** Deflate expands at most about 1032:1; a promise beyond that cannot be kept by the compressed file. */
    private static final long MAX_RATIO = 1032;

    /**
     * Reads a whole data file, gunzipping it when it starts with the gzip magic, but never more
     * than its header promises (plus one byte, to tell trailing garbage): the first headerBytes
     * (decompressed) go to size, and a file that inflates past that total is refused before it
     * can fill the heap. A header that is not valid returns just the header, for the caller to
     * report. Promises the file cannot keep (more than the raw file, or than deflate can expand
     * it to) are read as far as the file goes, so the caller reports a truncated file.
     */
    static byte[] read(Path file, int headerBytes, Size size) {
        if (Files.isDirectory(file)) throw fail(file, "is a directory, expected a file");
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            long fileSize = Files.size(file);
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f & raw.read() == 0x8b;
            raw.reset();
            InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw;
            byte[] head = in.readNBytes(headerBytes);
            if (head.length < headerBytes) return head;
            long total = size.total(head);
            if (total < 0) return head;
            if (total > Integer.MAX_VALUE - 16) {
                throw fail(file, "header promises " + total + " bytes, more than g2g can load in one array");
            }
            long possible = gzip ? fileSize * MAX_RATIO + (1 << 16) : fileSize;
            long want = Math.min(total + 1, possible) - headerBytes; // one more than promised, to see trailing data
            byte[] all = Arrays.copyOf(head, (int) (headerBytes + Math.max(0, want)));
            int n = headerBytes + in.readNBytes(all, headerBytes, all.length - headerBytes);
            if (n > total) {
                throw fail(file, (gzip ? "inflates to" : "holds") + " more than the " + total + " bytes "
                        + (headerBytes > 0 ? "its header promises" : "such a file holds")
                        + " (trailing data, a wrong header or concatenated files?)");
            }
            if (gzip && n == total) in.readAllBytes(); // nothing left: this checks the gzip trailer (CRC and size)
            return n == all.length ? all : Arrays.copyOf(all, n);
        } catch (NoSuchFileException e) {
            throw fail(file, "not found", e);
        } catch (AccessDeniedException e) {
            throw fail(file, "permission denied", e);
        } catch (EOFException e) {
            throw fail(file, "corrupt gzip: compressed data ends early (truncated download?)", e);
        } catch (ZipException e) {
            throw fail(file, "corrupt gzip: " + e.getMessage(), e);
        } catch (IOException e) {
            throw fail(file, "cannot read: " + e.getMessage(), e);
        }
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
