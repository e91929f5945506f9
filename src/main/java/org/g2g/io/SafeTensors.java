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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format (readable by Python's safetensors package): an 8-byte little-endian
 * header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
 * little-endian data. We use F32, I32 and U8 (masks).
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Duplicate keys are an error, not "the last one wins": a header is the file's table of contents. */
    private static final ObjectMapper STRICT = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

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

        /** Tensor name, checked to be of dtype and exactly shape; a UserError naming both otherwise. */
        public Entry expect(String name, Path file, String dtype, long... shape) {
            Entry e = get(name, file);
            if (!e.dtype().equals(dtype)) throw new UserError(file + ": tensor '" + name + "' is " + e.dtype() + ", expected " + dtype);
            if (!java.util.Arrays.equals(e.shape(), shape)) {
                throw new UserError(file + ": tensor '" + name + "' has shape " + java.util.Arrays.toString(e.shape())
                        + ", expected " + java.util.Arrays.toString(shape));
            }
            return e;
        }

        /** A float tensor of the given shape whose values are all finite. */
        public float[] finite(String name, Path file, long... shape) {
            float[] a = expect(name, file, "F32", shape).floats();
            for (int k = 0; k < a.length; k++) {
                if (!Float.isFinite(a[k])) throw new UserError(file + ": tensor '" + name + "' holds " + a[k] + " at element " + k);
            }
            return a;
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

    /** Bytes per element of the dtypes we read; any other dtype is refused. */
    static int elementBytes(String dtype) {
        return switch (dtype) {
            case "F32", "I32" -> 4;
            case "U8" -> 1;
            default -> -1;
        };
    }

    /**
     * Reads and checks a whole file; every defect is a UserError naming the file (and tensor):
     * the header must be a JSON object without duplicate keys; each tensor a known dtype, a shape
     * of non-negative 64-bit integers whose element count times the dtype size is exactly its byte
     * range; the ranges must tile the data section from 0 to the end of the file without gaps or
     * overlaps (as the reference implementation requires); metadata must map strings to strings.
     */
    public static Contents read(Path file) {
        if (!Files.isRegularFile(file)) throw new UserError(file + ": not found");
        try (FileChannel ch = FileChannel.open(file)) {
            long size = ch.size();
            if (size < 8) throw bad(file, "not a safetensors file (" + size + " bytes, shorter than the 8-byte header length)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long hlen = lenBuf.flip().getLong();
            if (hlen <= 0 || hlen > size - 8 || hlen > (100 << 20)) {
                throw bad(file, "not a safetensors file (header length " + hlen + " for a file of " + size + " bytes)");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) hlen);
            readFully(ch, hb, 8);
            JsonNode header;
            try {
                header = STRICT.readTree(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                String m = e.getMessage() == null ? e.toString() : e.getMessage().split("\n")[0];
                throw bad(file, "header is not valid JSON (" + m + ")");
            }
            if (header == null || !header.isObject()) throw bad(file, "header is not a JSON object");
            Contents c = new Contents();
            long base = 8 + hlen, dataBytes = size - base;
            Map<String, Header> headers = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    if (!f.getValue().isObject()) throw bad(file, "__metadata__ is not a JSON object");
                    for (Iterator<Map.Entry<String, JsonNode>> m = f.getValue().fields(); m.hasNext(); ) {
                        Map.Entry<String, JsonNode> e = m.next();
                        if (!e.getValue().isTextual()) throw bad(file, "metadata '" + e.getKey() + "' is not a string");
                        c.metadata.put(e.getKey(), e.getValue().asText());
                    }
                    continue;
                }
                Header h = header(file, f.getKey(), f.getValue(), dataBytes);
                headers.put(f.getKey(), h);
            }
            // the byte ranges, sorted, must follow each other exactly and end at the end of the file
            long at = 0;
            List<Header> sorted = new ArrayList<>(headers.values());
            sorted.sort(java.util.Comparator.comparingLong((Header h) -> h.begin).thenComparingLong(h -> h.end));
            for (Header h : sorted) {
                if (h.begin < at) throw bad(file, "tensor '" + h.name + "' overlaps the bytes of another tensor");
                if (h.begin > at) throw bad(file, "unused bytes " + at + ".." + h.begin + " before tensor '" + h.name + "'");
                at = h.end;
            }
            if (at != dataBytes) {
                throw bad(file, at < dataBytes ? (dataBytes - at) + " bytes after the last tensor (wrong offsets?)"
                        : "truncated: tensors need " + at + " bytes of data, the file has " + dataBytes);
            }
            for (Header h : headers.values()) {
                ByteBuffer d = ByteBuffer.allocate((int) (h.end - h.begin)).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, d, base + h.begin);
                d.flip();
                Object data = switch (h.dtype) {
                    case "F32" -> { float[] a = new float[d.remaining() / 4]; d.asFloatBuffer().get(a); yield a; }
                    case "I32" -> { int[] a = new int[d.remaining() / 4]; d.asIntBuffer().get(a); yield a; }
                    default -> { byte[] a = new byte[d.remaining()]; d.get(a); yield a; }
                };
                c.tensors.put(h.name, new Entry(h.dtype, h.shape, data));
            }
            return c;
        } catch (IOException e) {
            throw new UserError(file + ": cannot read: " + AtomicFiles.reason(e), e);
        }
    }

    /** One tensor's header entry, checked on its own. */
    private record Header(String name, String dtype, long[] shape, long begin, long end) {}

    private static Header header(Path file, String name, JsonNode t, long dataBytes) {
        String where = "tensor '" + name + "'";
        if (!t.isObject()) throw bad(file, where + ": header entry is not a JSON object");
        JsonNode dt = t.get("dtype"), sh = t.get("shape"), off = t.get("data_offsets");
        if (dt == null || !dt.isTextual()) throw bad(file, where + ": dtype missing or not a string");
        String dtype = dt.asText();
        int eb = elementBytes(dtype);
        if (eb < 0) throw bad(file, where + ": unsupported dtype " + dtype + " (g2g reads F32, I32 and U8)");
        if (sh == null || !sh.isArray()) throw bad(file, where + ": shape missing or not a list");
        long[] shape = new long[sh.size()];
        long count = 1;
        for (int k = 0; k < shape.length; k++) {
            JsonNode d = sh.get(k);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw bad(file, where + ": shape " + sh + " is not a list of non-negative integers");
            }
            shape[k] = d.asLong();
            try {
                count = Math.multiplyExact(count, shape[k]);
            } catch (ArithmeticException e) {
                throw bad(file, where + ": shape " + sh + " has more elements than a 64-bit count");
            }
        }
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()
                || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
            throw bad(file, where + ": data_offsets is not a pair of integers");
        }
        long b0 = off.get(0).asLong(), b1 = off.get(1).asLong();
        if (b0 < 0 || b1 < b0 || b1 > dataBytes) {
            throw bad(file, where + ": data_offsets [" + b0 + ", " + b1 + "] outside the " + dataBytes + " bytes of data (truncated file?)");
        }
        long need = count > Long.MAX_VALUE / eb ? -1 : count * eb;
        if (need != b1 - b0) {
            throw bad(file, where + ": shape " + sh + " of " + dtype + " needs " + (need < 0 ? "more than 2^63" : need)
                    + " bytes, its data_offsets hold " + (b1 - b0));
        }
        if (count > Integer.MAX_VALUE - 8) throw bad(file, where + ": " + count + " elements, more than g2g can hold in one array");
        return new Header(name, dtype, shape, b0, b1);
    }

    private static UserError bad(Path file, String why) { return new UserError(file + ": " + why); }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) throw new IOException("unexpected end of file");
            pos += n;
        }
    }
}
