package org.g2g.data;

import org.g2g.UserError;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class SplitsTest {
    /** Sample s has features (s, -s) and label s % 7, so every sample can be identified. */
    private static Split numbered(int n) {
        float[] x = new float[2 * n];
        int[] y = new int[n];
        for (int s = 0; s < n; s++) { x[2 * s] = s; x[2 * s + 1] = -s; y[s] = s % 7; }
        return new Split(x, y, n, 2);
    }

    private static int[] ids(Split s) {
        int[] ids = new int[s.n()];
        for (int i = 0; i < s.n(); i++) {
            ids[i] = (int) s.x()[2 * i];
            assertEquals(-ids[i], s.x()[2 * i + 1], "features travel together");
            assertEquals(ids[i] % 7, s.y()[i], "label travels with its sample");
        }
        return ids;
    }

    @Test void holdOutIsDeterministicDisjointAndComplete() {
        Split all = numbered(1000);
        Splits.HoldOut a = Splits.holdOut(all, 100, 42), b = Splits.holdOut(all, 100, 42);
        assertArrayEquals(ids(a.train()), ids(b.train()));
        assertArrayEquals(ids(a.validation()), ids(b.validation()));
        assertEquals(900, a.train().n());
        assertEquals(100, a.validation().n());
        Set<Integer> seen = new HashSet<>();
        for (int id : ids(a.train())) assertTrue(seen.add(id));
        for (int id : ids(a.validation())) assertTrue(seen.add(id), "sample " + id + " in both parts");
        assertEquals(1000, seen.size());
    }

    @Test void holdOutIsRandomNotAPrefixOrSuffix() {
        Split all = numbered(1000);
        int[] v = ids(Splits.holdOut(all, 100, 42).validation());
        assertTrue(v[0] < 100 && v[v.length - 1] > 900, "spread over the set: " + v[0] + ".." + v[v.length - 1]);
        for (int i = 1; i < v.length; i++) assertTrue(v[i] > v[i - 1], "original order kept");
        int[] w = ids(Splits.holdOut(all, 100, 43).validation());
        assertFalse(java.util.Arrays.equals(v, w), "another seed, another split");
    }

    @Test void zeroHoldOutGivesEmptyValidation() {
        Splits.HoldOut h = Splits.holdOut(numbered(10), 0, 1);
        assertEquals(10, h.train().n());
        assertEquals(0, h.validation().n());
    }

    @Test void holdOutSizeIsValidated() {
        for (int n : new int[]{-1, 10, 11}) {
            UserError e = assertThrows(UserError.class, () -> Splits.holdOut(numbered(10), n, 1));
            assertTrue(e.getMessage().contains("--val-split " + n) && e.getMessage().contains("[0, 10)"), e.getMessage());
        }
    }

    @Test void limitTakesPrefix() {
        Split all = numbered(10);
        assertArrayEquals(new int[]{0, 1, 2}, ids(Splits.limit(all, 3)));
        assertSame(all, Splits.limit(all, 10));
        assertSame(all, Splits.limit(all, 99));
        UserError e = assertThrows(UserError.class, () -> Splits.limit(all, 0));
        assertTrue(e.getMessage().contains("--limit-train/--limit-test 0"), e.getMessage());
    }
}
