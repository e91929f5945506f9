package org.g2g.train;

import org.g2g.config.RunConfig;
import org.g2g.io.EventFile;
import org.g2g.io.TensorBoardProto;
import org.g2g.testutil.Synthetic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** metrics_steps.csv and the TensorBoard event file of a real (tiny) run, read back independently. */
class StepLogTest {
    @TempDir static Path tmp;
    static Path data;

    @BeforeAll
    static void makeData() throws Exception {
        data = Synthetic.fashionLike(tmp.resolve("data"), 700, 200, 8, 10, 9);
    }

    static RunConfig config(int epochs) {
        Map<String, Object> m = new HashMap<>(Map.of("data", data.toString(), "hidden", 32, "layers", 2,
                "groups", 4, "epochs", epochs, "batch", 64, "update-every", 10, "device", "cpu", "threads", 2,
                "log-every", 4));
        return RunConfig.defaults().with(m);
    }

    /** Bitwise CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), independent of java.util.zip. */
    static int crc32c(byte[] b, int off, int len) {
        int crc = ~0;
        for (int i = off; i < off + len; i++) {
            crc ^= b[i] & 0xff;
            for (int k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82F63B78 & -(crc & 1));
        }
        return ~crc;
    }

    static int masked(int crc) { return ((crc >>> 15) | (crc << 17)) + 0xa282ead8; }

    /** Parses TFRecord framing by hand, checking both CRCs of every record. */
    static List<TensorBoardProto.Event> parse(Path f) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        List<TensorBoardProto.Event> out = new ArrayList<>();
        while (b.hasRemaining()) {
            int at = b.position();
            long len = b.getLong();
            assertEquals(masked(crc32c(b.array(), at, 8)), b.getInt(), "length CRC at " + at);
            byte[] d = new byte[(int) len];
            b.get(d);
            assertEquals(masked(crc32c(d, 0, d.length)), b.getInt(), "data CRC at " + at);
            out.add(TensorBoardProto.Event.parseFrom(d));
        }
        return out;
    }

    @Test
    void crcIsCastagnoli() {
        byte[] check = "123456789".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertEquals(0xE3069283, crc32c(check, 0, check.length)); // the published CRC-32C check value
    }

    static Path eventFile(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> l = s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).sorted().toList();
            assertEquals(1, l.size(), "one event file: " + l);
            return l.get(0);
        }
    }

    @Test
    void stepsCsvAndEventsAgreeWithTheEpochMetrics() throws Exception {
        Path dir = tmp.resolve("run");
        TrainRun.execute(config(2), dir, false, false, new PrintStream(new ByteArrayOutputStream()), TrainListener.NONE);
        List<String> rows = Files.readAllLines(dir.resolve("metrics_steps.csv"));
        assertEquals(StepMetrics.CSV_HEADER, rows.get(0));
        List<String> epochs = Files.readAllLines(dir.resolve("metrics.csv"));
        int batches = (700 + 63) / 64; // 11: windows end at steps 4, 8, 11 | 12, 16, 20, 22
        assertEquals(List.of(4L, 8L, 11L, 12L, 16L, 20L, 22L), rows.stream().skip(1).map(r -> Long.parseLong(r.split(",")[0])).toList());
        // the windows' sample-weighted mean loss is the epoch's train loss
        for (int e = 1; e <= 2; e++) {
            double sum = 0;
            long prev = (e - 1) * batches, samples = 0;
            for (String r : rows.subList(1, rows.size())) {
                String[] f = r.split(",");
                if (Integer.parseInt(f[1]) != e) continue;
                long step = Long.parseLong(f[0]);
                long n = Math.min(700, (step - (e - 1) * batches) * 64) - Math.min(700, (prev - (e - 1) * batches) * 64);
                sum += Double.parseDouble(f[2]) * n;
                samples += n;
                prev = step;
            }
            assertEquals(700, samples);
            double epochLoss = Double.parseDouble(epochs.get(e).split(",")[1]);
            assertEquals(epochLoss, sum / samples, 1e-4, "epoch " + e);
        }

        List<TensorBoardProto.Event> ev = parse(eventFile(dir));
        assertEquals(ev, EventFile.read(eventFile(dir)), "EventFile.read agrees with the hand parser");
        assertEquals("brain.Event:2", ev.get(0).getFileVersion());
        Map<String, List<double[]>> series = new HashMap<>();
        for (TensorBoardProto.Event e : ev.subList(1, ev.size())) {
            for (TensorBoardProto.Summary.Value v : e.getSummary().getValueList()) {
                series.computeIfAbsent(v.getTag(), k -> new ArrayList<>()).add(new double[]{e.getStep(), v.getSimpleValue()});
            }
        }
        List<double[]> loss = series.get("train/loss");
        assertEquals(rows.size() - 1, loss.size());
        for (int i = 0; i < loss.size(); i++) {
            String[] f = rows.get(i + 1).split(",");
            assertEquals(Long.parseLong(f[0]), (long) loss.get(i)[0]);
            assertEquals(Double.parseDouble(f[2]), loss.get(i)[1], 1e-5);
            assertEquals(Double.parseDouble(f[4]), series.get("train/lr").get(i)[1], 1e-9 + 1e-5 * Double.parseDouble(f[4]));
        }
        List<double[]> acc = series.get("epoch/test_accuracy");
        assertEquals(2, acc.size());
        for (int e = 1; e <= 2; e++) {
            assertEquals(e * batches, (long) acc.get(e - 1)[0]);
            assertEquals(Double.parseDouble(epochs.get(e).split(",")[5]), acc.get(e - 1)[1], 1e-6);
        }
        assertNull(series.get("epoch/val_accuracy"), "no validation split, no curve");
    }

    @Test
    void tensorboardOffWritesNoEventFile() throws Exception {
        Path dir = tmp.resolve("off");
        TrainRun.execute(config(1).with(Map.of("tensorboard", false)), dir, false, false,
                new PrintStream(new ByteArrayOutputStream()), TrainListener.NONE);
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains("tfevents")));
        }
        assertTrue(Files.readAllLines(dir.resolve("metrics_steps.csv")).size() > 1);
    }
}
