package org.g2g.backend.cuda;

/** One CUDA device as the driver reports it; computeCapability like "9.0". */
public record GpuInfo(int ordinal, String name, long totalMemoryBytes, String computeCapability) {
    /** Major * 10 + minor, e.g. 90 for 9.0. */
    public int capability() {
        String[] p = computeCapability.split("\\.");
        return Integer.parseInt(p[0]) * 10 + Integer.parseInt(p[1]);
    }

    @Override
    public String toString() {
        return "cuda:" + ordinal + " " + name + " (" + (totalMemoryBytes >> 20) + " MiB, sm_"
                + computeCapability.replace(".", "") + ")";
    }
}
