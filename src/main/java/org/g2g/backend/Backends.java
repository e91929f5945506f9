package org.g2g.backend;

import org.g2g.UserError;
import org.g2g.backend.cpu.CpuBackend;
import org.g2g.backend.cuda.Cuda;
import org.g2g.backend.cuda.CudaStatus;
import org.g2g.backend.cuda.GpuInfo;

import java.io.PrintStream;

/** Turns --device into a backend: auto picks CUDA when it is usable, else the CPU. */
public final class Backends {
    private Backends() {}

    public static Backend open(String device, int threads, String sparseEngine, PrintStream log) {
        if (device.equals("cpu")) return new CpuBackend(threads);
        if (device.equals("auto")) {
            CudaStatus s = Cuda.probe();
            if (s.usable()) return Cuda.open(0, sparseEngine);
            if (log != null) log.println("cuda not used: " + s.reason());
            return new CpuBackend(threads);
        }
        if (device.equals("cuda")) return Cuda.open(0, sparseEngine);
        if (device.startsWith("cuda:")) {
            try {
                return Cuda.open(Integer.parseInt(device.substring(5)), sparseEngine);
            } catch (NumberFormatException e) {
                throw new UserError("option --device: '" + device + "' is not cuda:N");
            }
        }
        throw new UserError("option --device: '" + device + "' is not auto, cpu, cuda or cuda:N");
    }
}
