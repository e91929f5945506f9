package org.g2g.sweep;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

/** Tiny synthetic data and specs, so sweep tests train real (small) runs in well under a second each. */
final class Fixtures {
    private Fixtures() {}

    static final int ROWS = 4, COLS = 4;

    /** A Fashion-MNIST-shaped IDX set (4x4 images) whose labels depend on the pixels, so accuracy moves. */
    static Path idx(Path dir, int n, int m) throws IOException {
        Files.createDirectories(dir);
        write(dir, "train", n, 11);
        write(dir, "t10k", m, 12);
        return dir;
    }

    private static void write(Path dir, String prefix, int n, long seed) throws IOException {
        Random r = new Random(seed);
        int f = ROWS * COLS;
        byte[] px = new byte[n * f], lab = new byte[n];
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(10);
            lab[i] = (byte) c;
            for (int j = 0; j < f; j++) px[i * f + j] = (byte) (j == c ? 200 + r.nextInt(55) : r.nextInt(60));
        }
        ByteBuffer im = ByteBuffer.allocate(16 + px.length).putInt(0x803).putInt(n).putInt(ROWS).putInt(COLS).put(px);
        ByteBuffer lb = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n).put(lab);
        Files.write(dir.resolve(prefix + "-images-idx3-ubyte"), im.array());
        Files.write(dir.resolve(prefix + "-labels-idx1-ubyte"), lb.array());
    }

    /** Base options of a tiny CPU run on the data in dataDir. */
    static String base(Path dataDir, int epochs) {
        return "base: {dataset: fashion-mnist, data: '" + dataDir + "', device: cpu, hidden: 16, layers: 2, groups: 4,"
                + " batch: 32, epochs: " + epochs + ", update-every: 5, lr: 0.01}\n";
    }

    static Path spec(Path dir, String text) throws IOException {
        Path f = dir.resolve("spec.yaml");
        Files.writeString(f, text, StandardCharsets.UTF_8);
        return f;
    }

    static final ClaimLock.Settings FAST = new ClaimLock.Settings(Duration.ofMillis(100), Duration.ofMillis(1000));

    static PrintStream sink(ByteArrayOutputStream b) { return new PrintStream(b, true, StandardCharsets.UTF_8); }
}
