package org.g2g.device;

import org.g2g.backend.Backend;
import org.g2g.backend.cpu.CpuBackend;
import org.g2g.backend.cuda.Cuda;
import org.g2g.backend.cuda.CudaStatus;
import org.g2g.backend.cuda.GpuInfo;
import org.g2g.UserError;
import org.g2g.config.DeviceSpec;
import org.g2g.config.Precision;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place that knows every backend (so {@code backend} itself does not depend on its
 * implementations): turns --device into a backend (auto picks CUDA when it is usable, else the CPU), and
 * answers what the CLI asks about devices, so nothing above this package reaches into a
 * particular backend.
 */
public final class Backends {
    private Backends() {}

    public static Backend open(DeviceSpec device, int threads, String sparseEngine, PrintStream log) {
        return open(device, threads, sparseEngine, Precision.FP32, log);
    }

    /** As above, with the products' number format; tf32 on the CPU (asked for, or what auto found) is refused. */
    public static Backend open(DeviceSpec device, int threads, String sparseEngine, Precision precision, PrintStream log) {
        boolean tf32 = precision == Precision.TF32;
        return switch (device.kind()) {
            case CPU -> cpu(threads, tf32);
            case CUDA -> Cuda.open(device.ordinal(), sparseEngine, tf32);
            case AUTO -> {
                CudaStatus s = Cuda.probe();
                if (s.usable()) yield Cuda.open(0, sparseEngine, tf32);
                if (log != null) log.println("cuda not used: " + s.reason());
                yield cpu(threads, tf32);
            }
        };
    }

    /**
     * Announces {@code runs} runs of this process training on {@code device} at once, until the
     * handle is closed: on a GPU each run is then sized against its share of the device memory.
     * Nothing to share on the CPU (the heap check covers it); auto means cuda:0 when it is used.
     */
    public static Share share(DeviceSpec device, int runs) {
        if (device.kind() == DeviceSpec.Kind.CPU) return () -> { };
        Runnable release = Cuda.shareDevice(device.ordinal(), runs);
        return release::run;
    }

    /** Refuses (one line, naming the option) a CUDA device that is not usable or does not exist; opens nothing. */
    public static void requireExists(DeviceSpec device, String option) {
        if (device.kind() != DeviceSpec.Kind.CUDA) return;
        CudaStatus s = Cuda.probe();
        if (!s.usable()) throw new UserError(option + ": " + device + " is not usable: " + s.reason());
        if (device.ordinal() >= s.gpus().size()) {
            throw new UserError(option + ": " + device + " does not exist: " + s.gpus().size() + " CUDA device(s) found");
        }
    }

    /** A device share announced with {@link #share}; closing it withdraws it. */
    public interface Share extends AutoCloseable {
        @Override void close();
    }

    private static Backend cpu(int threads, boolean tf32) {
        if (tf32) {
            throw new UserError("--precision tf32: the CPU backend computes in fp32 only (TF32 is a CUDA tensor-core "
                    + "format); use --precision fp32 or --device cuda");
        }
        return new CpuBackend(threads);
    }

    /** What `g2g devices` prints about CUDA: the driver and each GPU, or why CUDA is not usable, then the libraries. */
    public static List<String> cudaReport() {
        List<String> lines = new ArrayList<>();
        CudaStatus s = Cuda.probe();
        if (!s.usable()) {
            lines.add("cuda: not usable: " + s.reason());
        } else {
            lines.add("cuda: driver " + s.driverVersion());
            for (int i = 0; i < s.gpus().size(); i++) {
                GpuInfo g = s.gpus().get(i);
                lines.add(String.format("  cuda:%d %s, %.1f GiB, compute capability %s", i, g.name(),
                        g.totalMemoryBytes() / (double) (1L << 30), g.computeCapability()));
            }
        }
        lines.add("cublas: " + s.cublas());
        lines.add("cusparse: " + s.cusparse());
        return lines;
    }

    /**
     * The cuSPARSE engine on the same device as {@code main}, for comparisons; null with the
     * reason printed to log when there is none (not a CUDA device, or cuSPARSE did not load).
     */
    public static Backend cusparseTwin(Backend main, int threads, PrintStream log) {
        if (main.onHost()) {
            log.println("cusparse: not on this device; comparing against the dense kernel only");
            return null;
        }
        String cus = Cuda.probe().cusparse();
        if (cus != null && cus.startsWith("loaded")) return open(DeviceSpec.parse(main.name()), threads, "cusparse", log);
        log.println("cusparse: " + cus + "; comparing against the dense kernel only");
        return null;
    }
}
