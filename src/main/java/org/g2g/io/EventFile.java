package org.g2g.io;

import org.g2g.UserError;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A TensorBoard event file: TFRecord framing around serialised {@link TensorBoardProto.Event}s.
 * Each record is
 * <pre>uint64 length | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)</pre>
 * little-endian, with the CRC-32C masked as TFRecord requires (rotate right by 15, add
 * 0xa282ead8), so a reader can tell a torn record from data. The file is appended to and
 * flushed after every group of scalars, so `tensorboard --logdir` shows a run live; a kill
 * leaves at most one torn record at the end, which TensorBoard skips.
 */
public final class EventFile implements Closeable {
    private static final int MASK_DELTA = 0xa282ead8;

    public final Path file;
    private final OutputStream out;

    private EventFile(Path file) throws IOException {
        this.file = file;
        this.out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE));
    }

    /**
     * A new event file in dir, named events.out.tfevents.SECONDS.HOST.PID.N as TensorBoard expects
     * (every file of a directory is read, so a resumed run adds one). resumedAt > 0 writes a
     * SessionLog START at that step: TensorBoard then drops what the interrupted session logged
     * after it (the resumed run repeats those steps).
     */
    public static EventFile create(Path dir, long resumedAt) {
        long now = System.currentTimeMillis();
        String host = hostName();
        try {
            for (int n = 0; ; n++) {
                Path f = dir.resolve("events.out.tfevents." + now / 1000 + "." + host + "." + ProcessHandle.current().pid()
                        + "." + n);
                if (Files.exists(f)) continue;
                EventFile ef = new EventFile(f);
                ef.write(TensorBoardProto.Event.newBuilder().setWallTime(now / 1e3).setFileVersion("brain.Event:2").build());
                if (resumedAt > 0) {
                    ef.write(TensorBoardProto.Event.newBuilder().setWallTime(now / 1e3).setStep(resumedAt)
                            .setSessionLog(TensorBoardProto.SessionLog.newBuilder()
                                    .setStatus(TensorBoardProto.SessionLog.SessionStatus.START)).build());
                }
                ef.out.flush();
                return ef;
            }
        } catch (IOException e) {
            throw new UserError("TensorBoard event file in " + dir + ": cannot create (" + AtomicFiles.reason(e) + ")");
        }
    }

    /** One event holding a scalar per tag (e.g. "train/loss"), at step. */
    public void scalars(long step, Map<String, Double> values) {
        TensorBoardProto.Summary.Builder s = TensorBoardProto.Summary.newBuilder();
        for (Map.Entry<String, Double> e : values.entrySet()) {
            if (e.getValue() == null || e.getValue().isNaN()) continue;
            s.addValue(TensorBoardProto.Summary.Value.newBuilder().setTag(e.getKey())
                    .setSimpleValue(e.getValue().floatValue()));
        }
        try {
            write(TensorBoardProto.Event.newBuilder().setWallTime(System.currentTimeMillis() / 1e3).setStep(step)
                    .setSummary(s).build());
            out.flush();
        } catch (IOException e) {
            throw new UserError(file + ": cannot write (" + AtomicFiles.reason(e) + ")");
        }
    }

    private void write(TensorBoardProto.Event ev) throws IOException {
        out.write(frame(ev.toByteArray()));
    }

    /** data as one TFRecord. */
    static byte[] frame(byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + 4 + data.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(data.length);
        b.putInt(maskedCrc32c(b.array(), 0, 8));
        b.put(data);
        b.putInt(maskedCrc32c(data, 0, data.length));
        return b.array();
    }

    static int maskedCrc32c(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        int crc = (int) c.getValue();
        return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
    }

    /** The events of a file, every record's length and CRCs checked (a torn or corrupt record is an error). */
    public static List<TensorBoardProto.Event> read(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<TensorBoardProto.Event> events = new ArrayList<>();
        while (b.hasRemaining()) {
            int at = b.position();
            if (b.remaining() < 12) throw new IOException(file + ": torn record header at byte " + at);
            long len = b.getLong();
            if (b.getInt() != maskedCrc32c(b.array(), at, 8)) throw new IOException(file + ": length CRC mismatch at byte " + at);
            if (len < 0 || len > b.remaining() - 4) throw new IOException(file + ": torn record at byte " + at);
            byte[] data = new byte[(int) len];
            b.get(data);
            if (b.getInt() != maskedCrc32c(data, 0, data.length)) throw new IOException(file + ": data CRC mismatch at byte " + at);
            events.add(TensorBoardProto.Event.parseFrom(data));
        }
        return events;
    }

    private static String hostName() {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) {
            try {
                h = java.net.InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                h = "localhost";
            }
        }
        return h.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UserError(file + ": cannot write (" + AtomicFiles.reason(e) + ")");
        }
    }
}
