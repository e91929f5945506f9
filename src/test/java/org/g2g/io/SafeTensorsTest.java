package org.g2g.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.g2g.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class SafeTensorsTest {
    @TempDir Path tmp;

    @Test
    void roundTripAndLayoutFollowTheSpec() throws Exception {
        SafeTensors.Contents c = new SafeTensors.Contents();
        c.f32("w", new float[]{1.5f, -2f, 3.25f, 0f, 7f, 8f}, 2, 3);
        c.u8("mask", new byte[]{1, 0, 1, 0, 1, 1}, 2, 3);
        c.i32("g", new int[]{3, -4}, 2);
        c.metadata.put("format", "test");
        Path f = tmp.resolve("t.safetensors");
        SafeTensors.write(f, c);
        byte[] raw = Files.readAllBytes(f);
        long hlen = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + hlen) % 8, "data is 8-byte aligned");
        JsonNode h = new ObjectMapper().readTree(new String(raw, 8, (int) hlen, StandardCharsets.UTF_8));
        assertEquals("F32", h.get("w").get("dtype").asText());
        assertEquals(0, h.get("w").get("data_offsets").get(0).asInt());
        assertEquals(24, h.get("w").get("data_offsets").get(1).asInt());
        assertEquals(24, h.get("mask").get("data_offsets").get(0).asInt());
        assertEquals(raw.length, 8 + hlen + 24 + 6 + 8);
        // little-endian floats right after the header
        assertEquals(1.5f, ByteBuffer.wrap(raw, (int) (8 + hlen), 4).order(ByteOrder.LITTLE_ENDIAN).getFloat());
        SafeTensors.Contents back = SafeTensors.read(f);
        assertArrayEquals(c.tensors.get("w").floats(), back.tensors.get("w").floats());
        assertArrayEquals(c.tensors.get("mask").bytesU8(), back.tensors.get("mask").bytesU8());
        assertArrayEquals(c.tensors.get("g").ints(), back.tensors.get("g").ints());
        assertArrayEquals(new long[]{2, 3}, back.tensors.get("w").shape());
        assertEquals("test", back.metadata.get("format"));
    }

    @Test
    void truncatedFileIsAUserError() throws Exception {
        SafeTensors.Contents c = new SafeTensors.Contents().f32("w", new float[100], 100);
        Path f = tmp.resolve("t.safetensors");
        SafeTensors.write(f, c);
        byte[] raw = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(raw, raw.length - 10));
        UserError e = assertThrows(UserError.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Files.write(f, new byte[]{1, 2, 3});
        assertThrows(UserError.class, () -> SafeTensors.read(f));
    }

    @Test
    void atomicWriteLeavesNoTempFiles() throws Exception {
        Path f = tmp.resolve("x.txt");
        AtomicFiles.writeString(f, "one");
        AtomicFiles.writeString(f, "two");
        assertEquals("two", Files.readString(f));
        try (var s = Files.list(tmp)) {
            assertEquals(1, s.count());
        }
    }
}
