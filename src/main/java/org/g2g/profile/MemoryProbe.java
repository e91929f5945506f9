package org.g2g.profile;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/** Java heap figures: the sum of the heap pools' peak usage since the last reset, and live bytes after a GC. */
final class MemoryProbe {
    private MemoryProbe() {}

    static void resetPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.isValid()) p.resetPeakUsage();
        }
    }

    /** Sum of every heap pool's peak: an upper bound of the heap in use at any one time. */
    static long heapPeak() {
        long s = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.isValid() && p.getPeakUsage() != null) s += p.getPeakUsage().getUsed();
        }
        return s;
    }

    /** Heap in use after a full collection (what is reachable). */
    static long liveHeap() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static long maxHeap() { return Runtime.getRuntime().maxMemory(); }
}
