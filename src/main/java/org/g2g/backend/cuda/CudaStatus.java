package org.g2g.backend.cuda;

import java.util.List;

/**
 * What {@link Cuda#probe()} found. {@code reason} is null when usable, else one line such as
 * "no NVIDIA driver (libcuda.so.1 not found)". {@code cublas} and {@code cusparse} are "loaded"
 * (possibly with how) or why not.
 */
public record CudaStatus(boolean usable, String reason, String driverVersion, List<GpuInfo> gpus,
                         String cublas, String cusparse) {
    public CudaStatus {
        gpus = List.copyOf(gpus);
    }

    /** A few lines for `g2g devices`. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("CUDA: ").append(usable ? "usable" : "not usable: " + reason).append('\n');
        sb.append("  driver: ").append(driverVersion == null ? "none" : driverVersion).append('\n');
        for (GpuInfo g : gpus) sb.append("  ").append(g).append('\n');
        sb.append("  cuBLAS: ").append(cublas).append('\n');
        sb.append("  cuSPARSE: ").append(cusparse).append('\n');
        return sb.toString();
    }
}
