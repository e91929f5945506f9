package org.g2g.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Generates damaged copies of a safetensors file, for tests that every damage is refused:
 * each tensor x {dtype, shape, offsets, length}, each metadata field, the header itself.
 */
public final class Damage {
    private Damage() {}

    static final ObjectMapper JSON = new ObjectMapper();

    /** A file split into its header (editable) and its data section. */
    public record Parts(ObjectNode header, byte[] data) {
        public Parts copy() { return new Parts(header.deepCopy(), data.clone()); }

        public List<String> tensors() {
            List<String> names = new ArrayList<>();
            for (Iterator<String> it = header.fieldNames(); it.hasNext(); ) {
                String n = it.next();
                if (!n.equals("__metadata__")) names.add(n);
            }
            return names;
        }

        public ObjectNode tensor(String name) { return (ObjectNode) header.get(name); }

        public ObjectNode metadata() { return (ObjectNode) header.get("__metadata__"); }

        public byte[] bytes() {
            byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(h.length).put(h).put(data);
            return b.array();
        }
    }

    public static Parts read(Path f) throws IOException {
        byte[] all = Files.readAllBytes(f);
        long hlen = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode h = (ObjectNode) JSON.readTree(new String(all, 8, (int) hlen, StandardCharsets.UTF_8));
        return new Parts(h, Arrays.copyOfRange(all, 8 + (int) hlen, all.length));
    }

    /** One named damage: the bytes of the damaged file. */
    public record Case(String name, byte[] bytes) {}

    /**
     * Damages of every tensor: each other dtype (same bytes, and bytes that no longer fit), shapes
     * (1-D, transposed, an extra axis, 64-bit overflowing, negative, not numbers), offsets (into
     * another tensor, past the end, reversed, a byte off) and the data (a byte short, a byte extra).
     * Cases that leave the header unchanged (a square matrix transposed) are left out.
     */
    public static List<Case> everyTensor(Parts p) {
        List<Case> out = new ArrayList<>();
        List<String> names = p.tensors();
        for (String t : names) {
            ObjectNode orig = p.tensor(t);
            String dtype = orig.get("dtype").asText();
            for (String d : List.of("F32", "I32", "U8", "F64", "F16", "BOOL", "")) {
                if (!d.equals(dtype)) add(out, p, t + " dtype " + d, q -> q.tensor(t).put("dtype", d));
            }
            add(out, p, t + " dtype missing", q -> q.tensor(t).remove("dtype"));
            long[] shape = shape(orig);
            long n = 1;
            for (long s : shape) n *= s;
            long count = n;
            add(out, p, t + " shape 1-D", q -> setShape(q, t, count));
            if (shape.length == 2) add(out, p, t + " shape transposed", q -> setShape(q, t, shape[1], shape[0]));
            long[] extra = Arrays.copyOf(shape, shape.length + 1);
            extra[shape.length] = 2;
            add(out, p, t + " shape extra axis", q -> setShape(q, t, extra));
            add(out, p, t + " shape 2^32 wide", q -> setShape(q, t, 1L << 32, count));
            add(out, p, t + " shape overflowing 64 bits", q -> setShape(q, t, 1L << 40, 1L << 40));
            add(out, p, t + " shape negative", q -> setShape(q, t, -count));
            add(out, p, t + " shape scalar", q -> setShape(q, t));
            add(out, p, t + " shape text", q -> q.tensor(t).putArray("shape").add("abc"));
            add(out, p, t + " shape fractional", q -> q.tensor(t).putArray("shape").add(count + 0.5));
            long b0 = orig.get("data_offsets").get(0).asLong(), b1 = orig.get("data_offsets").get(1).asLong();
            for (String other : names) {
                if (other.equals(t)) continue;
                long o0 = p.tensor(other).get("data_offsets").get(0).asLong();
                add(out, p, t + " offsets into " + other, q -> setOffsets(q, t, o0, o0 + (b1 - b0)));
                break; // one other tensor is enough per tensor; every tensor gets its turn
            }
            add(out, p, t + " offsets past the end", q -> setOffsets(q, t, p.data.length - (b1 - b0) + 4, p.data.length + 4));
            add(out, p, t + " offsets reversed", q -> setOffsets(q, t, b1, b0));
            add(out, p, t + " offsets a byte on", q -> setOffsets(q, t, b0 + 1, b1 + 1));
            add(out, p, t + " offsets negative", q -> setOffsets(q, t, -4, b1 - b0 - 4));
            add(out, p, t + " offsets missing", q -> q.tensor(t).remove("data_offsets"));
            add(out, p, t + " offsets text", q -> q.tensor(t).putArray("data_offsets").add("0").add("4"));
        }
        Parts shortData = new Parts(p.header.deepCopy(), Arrays.copyOf(p.data, p.data.length - 1));
        out.add(new Case("data a byte short", shortData.bytes()));
        Parts longData = new Parts(p.header.deepCopy(), Arrays.copyOf(p.data, p.data.length + 1));
        out.add(new Case("data a byte extra", longData.bytes()));
        return out;
    }

    /** Every metadata field replaced by each of the given values (and removed). */
    public static List<Case> everyMetadata(Parts p, Map<String, List<String>> values) {
        List<Case> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : values.entrySet()) {
            for (String v : e.getValue()) add(out, p, "metadata " + e.getKey() + "=" + v, q -> q.metadata().put(e.getKey(), v));
            add(out, p, "metadata " + e.getKey() + " missing", q -> q.metadata().remove(e.getKey()));
        }
        add(out, p, "metadata not strings", q -> q.metadata().put("depth", 2));
        add(out, p, "metadata an array", q -> q.header().set("__metadata__", JSON.createArrayNode()));
        return out;
    }

    /** Damage to the header as a whole. */
    public static List<Case> header(Parts p) {
        List<Case> out = new ArrayList<>();
        byte[] ok = p.bytes();
        out.add(new Case("empty file", new byte[0]));
        out.add(new Case("7 bytes", Arrays.copyOf(ok, 7)));
        ByteBuffer huge = ByteBuffer.wrap(ok.clone()).order(ByteOrder.LITTLE_ENDIAN);
        huge.putLong(0, Long.MAX_VALUE);
        out.add(new Case("header length 2^63-1", huge.array()));
        ByteBuffer neg = ByteBuffer.wrap(ok.clone()).order(ByteOrder.LITTLE_ENDIAN);
        neg.putLong(0, -8);
        out.add(new Case("header length negative", neg.array()));
        out.add(new Case("header not JSON", withHeader("{\"a\": [1, 2", p.data)));
        out.add(new Case("header an array", withHeader("[]", p.data)));
        String h = p.header.toString();
        String first = p.tensors().get(0);
        String dup = "{\"" + first + "\": " + p.tensor(first) + ", " + h.substring(1);
        out.add(new Case("duplicate tensor name", withHeader(dup, p.data)));
        out.add(new Case("tensor entry a number", withHeader("{\"" + first + "\": 3}", p.data)));
        return out;
    }

    static byte[] withHeader(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).put(data).array();
    }

    private static void add(List<Case> out, Parts p, String name, Consumer<Parts> edit) {
        Parts q = p.copy();
        edit.accept(q);
        if (q.header.toString().equals(p.header.toString())) return; // not a damage (a square matrix transposed)
        out.add(new Case(name, q.bytes()));
    }

    private static long[] shape(JsonNode t) {
        long[] s = new long[t.get("shape").size()];
        for (int k = 0; k < s.length; k++) s[k] = t.get("shape").get(k).asLong();
        return s;
    }

    private static void setShape(Parts q, String t, long... shape) {
        ArrayNode a = q.tensor(t).putArray("shape");
        for (long s : shape) a.add(s);
    }

    private static void setOffsets(Parts q, String t, long b0, long b1) {
        q.tensor(t).putArray("data_offsets").add(b0).add(b1);
    }

    /** A damaged copy of a float tensor's data: value at element k replaced. */
    public static Case value(Parts p, String t, int k, float v) {
        Parts q = p.copy();
        int at = (int) q.tensor(t).get("data_offsets").get(0).asLong() + 4 * k;
        ByteBuffer.wrap(q.data).order(ByteOrder.LITTLE_ENDIAN).putFloat(at, v);
        return new Case(t + "[" + k + "] = " + v, q.bytes());
    }

    /** A damaged copy of a U8 tensor's data. */
    public static Case byteValue(Parts p, String t, int k, int v) {
        Parts q = p.copy();
        q.data[(int) q.tensor(t).get("data_offsets").get(0).asLong() + k] = (byte) v;
        return new Case(t + "[" + k + "] = " + v, q.bytes());
    }

    /** Replacement values per metadata key: map("key", List.of(...), ...), in the order given. */
    public static Map<String, List<String>> map(Object... kv) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            @SuppressWarnings("unchecked") List<String> l = (List<String>) kv[i + 1];
            m.put((String) kv[i], l);
        }
        return m;
    }
}
