package org.g2g.data;

import org.g2g.UserError;
import org.g2g.data.CifarReader.Variant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.g2g.data.TestFiles.*;
import static org.junit.jupiter.api.Assertions.*;

class CifarReaderTest {
    @TempDir Path dir;

    private static void assertPixels(byte[] px, float[] x, int from) {
        for (int i = 0; i < px.length; i++) assertEquals((px[i] & 0xff) / 255.0, x[from + i], 1e-7, "pixel " + i);
    }

    @Test void cifar10RoundTripConcatenatesBatchesInOrder() throws IOException {
        byte[][] px = new byte[6][];
        int[] sizes = {2, 1, 3, 1, 2, 4}; // batches of different sizes: no fixed 10000 assumed
        List<String> files = Variant.CIFAR10.allFiles();
        for (int f = 0; f < 6; f++) {
            int[][] lab = new int[sizes[f]][1];
            for (int s = 0; s < sizes[f]; s++) lab[s][0] = (f + s) % 10;
            px[f] = randomBytes(sizes[f] * 3072, f);
            write(dir.resolve(files.get(f)), cifar(lab, px[f]));
        }
        Dataset d = CifarReader.read(Variant.CIFAR10, dir);
        assertEquals("cifar10", d.name());
        assertEquals(3072, d.features());
        assertEquals(10, d.classes());
        assertEquals(9, d.train().n());
        assertEquals(4, d.test().n());
        assertArrayEquals(new int[]{0, 1, 1, 2, 3, 4, 3, 4, 5}, d.train().y());
        assertArrayEquals(new int[]{5, 6, 7, 8}, d.test().y());
        int off = 0;
        for (int f = 0; f < 5; f++) { assertPixels(px[f], d.train().x(), off); off += px[f].length; }
        assertPixels(px[5], d.test().x(), 0);
    }

    @Test void cifar100UsesFineLabels() throws IOException {
        byte[] px = randomBytes(3 * 3072, 9);
        write(dir.resolve("cifar-100-binary/train.bin"), cifar(new int[][]{{19, 99}, {0, 0}, {5, 42}}, px));
        write(dir.resolve("cifar-100-binary/test.bin"), cifar(new int[][]{{3, 77}}, Arrays.copyOf(px, 3072)));
        Dataset d = CifarReader.read(Variant.CIFAR100, dir); // the parent of cifar-100-binary/
        assertEquals(100, d.classes());
        assertArrayEquals(new int[]{99, 0, 42}, d.train().y());
        assertArrayEquals(new int[]{77}, d.test().y());
        assertPixels(px, d.train().x(), 0);
    }

    @Test void acceptsParentOfBatchesDir() throws IOException {
        cifar10Set(dir.resolve("cifar-10-batches-bin"), 2);
        assertEquals(10, CifarReader.read(Variant.CIFAR10, dir).train().n());
        assertEquals(10, CifarReader.read(Variant.CIFAR10, dir.resolve("cifar-10-batches-bin")).train().n());
    }

    @Test void missingFilesAreListed() throws IOException {
        cifar10Set(dir, 1);
        Files.delete(dir.resolve("data_batch_3.bin"));
        Files.delete(dir.resolve("test_batch.bin"));
        UserError e = assertThrows(UserError.class, () -> CifarReader.read(Variant.CIFAR10, dir));
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("missing")
                && e.getMessage().contains("data_batch_3.bin") && e.getMessage().contains("test_batch.bin")
                && !e.getMessage().contains("data_batch_1.bin"), e.getMessage());
    }

    @Test void sizeNotMultipleOfRecord() throws IOException {
        cifar10Set(dir, 2);
        Path f = dir.resolve("data_batch_2.bin");
        byte[] b = Files.readAllBytes(f);
        write(f, Arrays.copyOf(b, b.length - 100));
        UserError e = assertThrows(UserError.class, () -> CifarReader.read(Variant.CIFAR10, dir));
        assertTrue(e.getMessage().contains("data_batch_2.bin") && e.getMessage().contains("not a multiple of the 3073-byte"),
                e.getMessage());
    }

    @Test void cifar10FileReadAsCifar100IsCaughtBySize() throws IOException {
        // 2 CIFAR-10 records = 6146 bytes, not a multiple of 3074
        write(dir.resolve("train.bin"), cifar(new int[][]{{1}, {2}}, new byte[2 * 3072]));
        write(dir.resolve("test.bin"), cifar(new int[][]{{1, 1}}, new byte[3072]));
        UserError e = assertThrows(UserError.class, () -> CifarReader.read(Variant.CIFAR100, dir));
        assertTrue(e.getMessage().contains("train.bin") && e.getMessage().contains("multiple"), e.getMessage());
    }

    @Test void emptyFile() throws IOException {
        cifar10Set(dir, 1);
        write(dir.resolve("test_batch.bin"), new byte[0]);
        UserError e = assertThrows(UserError.class, () -> CifarReader.read(Variant.CIFAR10, dir));
        assertTrue(e.getMessage().contains("test_batch.bin") && e.getMessage().contains("empty"), e.getMessage());
    }

    @Test void labelOutOfRange() throws IOException {
        cifar10Set(dir, 2);
        write(dir.resolve("data_batch_4.bin"), cifar(new int[][]{{3}, {10}}, new byte[2 * 3072]));
        UserError e = assertThrows(UserError.class, () -> CifarReader.read(Variant.CIFAR10, dir));
        assertTrue(e.getMessage().contains("data_batch_4.bin") && e.getMessage().contains("label 10 at record 1 out of range"),
                e.getMessage());
    }

    @Test void cifar100FineAndCoarseLabelRange() throws IOException {
        write(dir.resolve("test.bin"), cifar(new int[][]{{1, 1}}, new byte[3072]));
        write(dir.resolve("train.bin"), cifar(new int[][]{{1, 100}}, new byte[3072]));
        UserError e = assertThrows(UserError.class, () -> CifarReader.read(Variant.CIFAR100, dir));
        assertTrue(e.getMessage().contains("train.bin") && e.getMessage().contains("(fine)")
                && e.getMessage().contains("out of range [0, 100)"), e.getMessage());
        write(dir.resolve("train.bin"), cifar(new int[][]{{20, 1}}, new byte[3072]));
        e = assertThrows(UserError.class, () -> CifarReader.read(Variant.CIFAR100, dir));
        assertTrue(e.getMessage().contains("(coarse)") && e.getMessage().contains("out of range [0, 20)"), e.getMessage());
    }
}
