package org.g2g.data;

import org.g2g.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/** A gzip file inflates only as far as its IDX header promises: a small bomb cannot fill the heap. */
class DecompressionCapTest {
    @TempDir Path tmp;

    /** An IDX file whose header promises header + promised bytes, followed by `actual` zero bytes, gzipped. */
    static Path bomb(Path f, ByteBuffer header, long actual) throws Exception {
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(f), 1 << 16)) {
            o.write(header.array());
            byte[] zeros = new byte[1 << 20];
            for (long left = actual; left > 0; left -= zeros.length) o.write(zeros, 0, (int) Math.min(left, zeros.length));
        }
        return f;
    }

    @Test
    void inflationStopsAtWhatTheHeaderPromises() throws Exception {
        long big = 256L << 20; // 256 MiB of zeros: about 250 KB compressed
        Path labels = bomb(tmp.resolve("l.gz"), ByteBuffer.allocate(8).putInt(0x801).putInt(100), big);
        assertTrue(Files.size(labels) < 2 << 20, "a small file: " + Files.size(labels));
        UserError e = assertThrows(UserError.class, () -> IdxReader.readLabels(labels));
        assertTrue(e.getMessage().contains("inflates to more than the 108 bytes its header promises"), e.getMessage());

        Path images = bomb(tmp.resolve("i.gz"), ByteBuffer.allocate(16).putInt(0x803).putInt(10).putInt(28).putInt(28), big);
        UserError f = assertThrows(UserError.class, () -> IdxReader.readImages(images));
        assertTrue(f.getMessage().contains("inflates to more than the " + (16 + 10 * 784) + " bytes"), f.getMessage());
    }

    @Test
    void aHeaderPromisingMoreThanTheFileCanHoldAllocatesNothingBig() throws Exception {
        // 2^31 - 1 labels promised by a 30-byte file: reported as truncated, without a 2 GB array
        Path f = bomb(tmp.resolve("l.gz"), ByteBuffer.allocate(8).putInt(0x801).putInt(Integer.MAX_VALUE), 10);
        UserError e = assertThrows(UserError.class, () -> IdxReader.readLabels(f));
        assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("more than g2g can load"), e.getMessage());
        // images: 2^31 - 1 images of 28x28 overflow an int count: refused by its 64-bit size
        Path g = bomb(tmp.resolve("i.gz"), ByteBuffer.allocate(16).putInt(0x803).putInt(Integer.MAX_VALUE).putInt(28).putInt(28), 10);
        UserError e2 = assertThrows(UserError.class, () -> IdxReader.readImages(g));
        assertTrue(e2.getMessage().contains("more than g2g can load"), e2.getMessage());
        // the same promises uncompressed
        Path raw = tmp.resolve("raw");
        Files.write(raw, ByteBuffer.allocate(18).putInt(0x801).putInt(Integer.MAX_VALUE).array());
        String m = assertThrows(UserError.class, () -> IdxReader.readLabels(raw)).getMessage();
        assertTrue(m.contains("more than g2g can load"), m);
        Files.write(raw, ByteBuffer.allocate(18).putInt(0x801).putInt(1 << 30).array());
        m = assertThrows(UserError.class, () -> IdxReader.readLabels(raw)).getMessage();
        assertTrue(m.contains("truncated"), m);
    }
}
