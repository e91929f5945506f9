package org.g2g.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.g2g.UserError;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format (readable by Python's safetensors package): an 8-byte little-endian
 * header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
 * little-endian data. We use F32, I32 and U8 (masks).
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One named tensor: data is float[], int[] or byte[]. */
    public record Entry(String dtype, long[] shape, Object data) {
        long bytes() {
            return switch (dtype) {
                case "F32" -> 4L * ((float[]) data).length;
                case "I32" -> 4L * ((int[]) data).length;
                case "U8" -> ((byte[]) data).length;
                default -> throw new IllegalArgumentException(dtype);
            };
        }

        public float[] floats() { return (float[]) data; }
        public int[] ints() { return (int[]) data; }
        public byte[] bytesU8() { return (byte[]) data; }
    }

    /** Tensors in insertion order plus string metadata. */
    public static final class Contents {
        public final Map<String, Entry> tensors = new LinkedHashMap<>();
        public final Map<String, String> metadata = new LinkedHashMap<>();

        public Contents f32(String name, float[] d, long... shape) { tensors.put(name, new Entry("F32", shape, d)); return this; }
        public Contents i32(String name, int[] d, long... shape) { tensors.put(name, new Entry("I32", shape, d)); return this; }
        public Contents u8(String name, byte[] d, long... shape) { tensors.put(name, new Entry("U8", shape, d)); return this; }

        public Entry get(String name, Path file) {
            Entry e = tensors.get(name);
            if (e == null) throw new UserError(file + ": tensor '" + name + "' missing");
            return e;
        }
    }

    public static void write(Path target, Contents c) {
        ObjectNode header = JSON.createObjectNode();
        if (!c.metadata.isEmpty()) {
            ObjectNode md = header.putObject("__metadata__");
            c.metadata.forEach(md::put);
        }
        long off = 0;
        for (Map.Entry<String, Entry> e : c.tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue().dtype());
            var shape = t.putArray("shape");
            for (long s : e.getValue().shape()) shape.add(s);
            long n = e.getValue().bytes();
            t.putArray("data_offsets").add(off).add(off + n);
            off += n;
        }
        byte[] hj;
        try {
            hj = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        int padded = (hj.length + 7) & ~7; // data 8-byte aligned, padding with spaces as the spec allows
        byte[] h = new byte[padded];
        java.util.Arrays.fill(h, (byte) ' ');
        System.arraycopy(hj, 0, h, 0, hj.length);
        AtomicFiles.write(target, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(h);
            for (Entry e : c.tensors.values()) writeData(out, e);
        });
    }

    private static void writeData(OutputStream out, Entry e) throws IOException {
        if (e.dtype().equals("U8")) { out.write(e.bytesU8()); return; }
        ByteBuffer bb = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        int n = e.dtype().equals("F32") ? e.floats().length : e.ints().length;
        for (int k = 0; k < n; k++) {
            if (e.dtype().equals("F32")) bb.putFloat(e.floats()[k]); else bb.putInt(e.ints()[k]);
            if (!bb.hasRemaining()) { out.write(bb.array(), 0, bb.position()); bb.clear(); }
        }
        out.write(bb.array(), 0, bb.position());
    }

    public static Contents read(Path file) {
        if (!Files.isRegularFile(file)) throw new UserError(file + ": not found");
        try (FileChannel ch = FileChannel.open(file)) {
            long size = ch.size();
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long hlen = lenBuf.flip().getLong();
            if (size < 8 || hlen <= 0 || hlen > size - 8 || hlen > (100 << 20)) {
                throw new UserError(file + ": not a safetensors file (bad header length)");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) hlen);
            readFully(ch, hb, 8);
            JsonNode header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
            Contents c = new Contents();
            long base = 8 + hlen;
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    f.getValue().fields().forEachRemaining(m -> c.metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                JsonNode t = f.getValue();
                String dtype = t.get("dtype").asText();
                long[] shape = new long[t.get("shape").size()];
                for (int k = 0; k < shape.length; k++) shape[k] = t.get("shape").get(k).asLong();
                long b0 = t.get("data_offsets").get(0).asLong(), b1 = t.get("data_offsets").get(1).asLong();
                if (b0 < 0 || b1 < b0 || base + b1 > size) throw new UserError(file + ": truncated (tensor " + f.getKey() + ")");
                ByteBuffer d = ByteBuffer.allocate((int) (b1 - b0)).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, d, base + b0);
                d.flip();
                Object data = switch (dtype) {
                    case "F32" -> { float[] a = new float[d.remaining() / 4]; d.asFloatBuffer().get(a); yield a; }
                    case "I32" -> { int[] a = new int[d.remaining() / 4]; d.asIntBuffer().get(a); yield a; }
                    case "U8" -> { byte[] a = new byte[d.remaining()]; d.get(a); yield a; }
                    default -> throw new UserError(file + ": unsupported dtype " + dtype);
                };
                c.tensors.put(f.getKey(), new Entry(dtype, shape, data));
            }
            return c;
        } catch (IOException e) {
            throw new UserError(file + ": cannot read: " + AtomicFiles.reason(e), e);
        } catch (NullPointerException e) {
            throw new UserError(file + ": malformed safetensors header", e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) throw new IOException("unexpected end of file");
            pos += n;
        }
    }
}
