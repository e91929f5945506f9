package org.g2g.backend.cuda;

import org.g2g.UserError;
import org.g2g.backend.Backend;

import java.util.List;

/** TEMPORARY stand-in until the CUDA backend lands. */
public final class Cuda {
    private Cuda() {}

    public record GpuInfo(String name, long totalMemoryBytes, String computeCapability) {}

    public record CudaStatus(boolean usable, String reason, String driverVersion, List<GpuInfo> gpus,
                             String cublas, String cusparse) {}

    public static CudaStatus probe() {
        return new CudaStatus(false, "CUDA backend not built", null, List.of(), "not loaded", "not loaded");
    }

    public static Backend open(int ordinal, String sparseEngine) {
        throw new UserError("--device cuda: " + probe().reason());
    }
}
