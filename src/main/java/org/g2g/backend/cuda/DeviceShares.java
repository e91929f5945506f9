package org.g2g.backend.cuda;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How the runs of this process share each GPU's memory. K runs trained at once on one GPU
 * (`g2g sweep --parallel K`, `g2g profile --concurrent K`) would each see the whole of the free
 * memory when they are sized, and together overcommit it; so a run is sized against its fair
 * share instead: what the device has free plus what g2g's runs on it already hold, divided by the
 * number of runs sharing it (those announced with {@link #plan}, or those open, whichever is
 * more), less what this run already holds - and never more than is actually free.
 */
final class DeviceShares {
    private static final Map<Integer, Integer> PLANNED = new ConcurrentHashMap<>();
    private static final Map<Integer, Set<DeviceAllocator>> OPEN = new ConcurrentHashMap<>();

    private DeviceShares() {}

    /** Announces {@code runs} more runs on GPU {@code ordinal}; running the result withdraws them (once). */
    static Runnable plan(int ordinal, int runs) {
        if (runs < 1) throw new IllegalArgumentException("runs " + runs);
        PLANNED.merge(ordinal, runs, Integer::sum);
        boolean[] closed = new boolean[1];
        return () -> {
            synchronized (closed) {
                if (closed[0]) return;
                closed[0] = true;
            }
            PLANNED.compute(ordinal, (k, v) -> v == null || v <= runs ? null : v - runs);
        };
    }

    static void opened(int ordinal, DeviceAllocator a) {
        OPEN.computeIfAbsent(ordinal, k -> ConcurrentHashMap.newKeySet()).add(a);
    }

    static void closed(int ordinal, DeviceAllocator a) {
        Set<DeviceAllocator> s = OPEN.get(ordinal);
        if (s != null) s.remove(a);
    }

    /** Runs sharing GPU {@code ordinal} now: announced or open, whichever is more (at least 1). */
    static int sharers(int ordinal) {
        Set<DeviceAllocator> s = OPEN.get(ordinal);
        return Math.max(1, Math.max(PLANNED.getOrDefault(ordinal, 0), s == null ? 0 : s.size()));
    }

    /** Bytes {@code self} may still allocate, given {@code free} bytes free on its GPU now. */
    static long share(int ordinal, DeviceAllocator self, long free) {
        Set<DeviceAllocator> s = OPEN.get(ordinal);
        long held = 0;
        if (s != null) for (DeviceAllocator a : s) held += a.liveBytes();
        if (s == null || !s.contains(self)) held += self.liveBytes();
        long fair = (free + held) / sharers(ordinal) - self.liveBytes();
        return Math.max(0, Math.min(free, fair));
    }
}
