package org.g2g.backend.cuda;

/**
 * The backend's scratch device buffers, grown on demand and never shrunk: the correlation's
 * norms and centred copies, cuSPARSE's edge weights in CSC order. They belong to the backend,
 * not to a layer plan, so a plan built after every DST update allocates only its indices.
 */
final class CudaWorkspace {
    private final DeviceAllocator memory;
    private DeviceMemory norms, centredY, centredX, edgesT;

    CudaWorkspace(DeviceAllocator memory) { this.memory = memory; }

    DeviceMemory norms(long bytes) { return norms = memory.ensure(norms, bytes, "correlation norms"); }

    DeviceMemory centredOutputs(long bytes) { return centredY = memory.ensure(centredY, bytes, "centred outputs"); }

    DeviceMemory centredInputs(long bytes) { return centredX = memory.ensure(centredX, bytes, "centred inputs"); }

    DeviceMemory edgesInCscOrder(long bytes) { return edgesT = memory.ensure(edgesT, bytes, "edge weights in CSC order"); }
}
