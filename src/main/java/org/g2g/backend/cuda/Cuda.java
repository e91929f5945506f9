package org.g2g.backend.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jcuda.CudaException;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.g2g.UserError;
import org.g2g.backend.Backend;

/** Entry points for the CLI: is CUDA usable here, and open a backend on one GPU. */
public final class Cuda {
    /** Kernels are compiled by CUDA 13 nvcc: SASS for sm_80..sm_90, PTX 9.0 (driver >= 580). */
    public static final int MIN_DRIVER = 13000;
    public static final int MIN_CAPABILITY = 80;
    public static final List<String> SPARSE_ENGINES = List.of("custom", "cusparse");

    private static CudaStatus cached;

    private Cuda() {}

    /** What CUDA looks like on this machine. Never throws; the verdict is cached per JVM. */
    public static synchronized CudaStatus probe() {
        if (cached == null) {
            try {
                cached = doProbe();
            } catch (Throwable t) { // a probe must never take the program down
                cached = new CudaStatus(false, "CUDA probe failed: " + NativeLibs.oneLine(t), null, List.of(),
                        "not checked", "not checked");
            }
        }
        return cached;
    }

    private static CudaStatus doProbe() {
        String driver = null;
        List<GpuInfo> gpus = new ArrayList<>();
        try {
            JCudaDriver.setExceptionsEnabled(false); // first touch: loads libJCudaDriver -> libcuda.so.1
            int[] v = new int[1];
            int rv = cuDriverGetVersion(v);
            String versionProblem = driverVersionProblem(rv, v[0]);
            if (rv != CUresult.CUDA_SUCCESS || v[0] <= 0) return unusable(versionProblem, null, gpus);
            driver = version(v[0]);
            int r = cuInit(0);
            if (r == CUresult.CUDA_ERROR_NO_DEVICE) return unusable("no CUDA device", driver, gpus);
            if (r != CUresult.CUDA_SUCCESS) return unusable("CUDA driver initialisation failed: " + CUresult.stringFor(r), driver, gpus);
            int[] count = new int[1];
            if (cuDeviceGetCount(count) != CUresult.CUDA_SUCCESS || count[0] == 0) return unusable("no CUDA device", driver, gpus);
            for (int k = 0; k < count[0]; k++) gpus.add(info(k));
            if (versionProblem != null) return unusable(versionProblem, driver, gpus); // too old, GPUs listed
        } catch (LinkageError e) {
            // JCuda's message nests the loader's, e.g. "libcuda.so.1: cannot open shared object file"
            String full = String.valueOf(e.getMessage());
            boolean noDriver = full.contains("libcuda.so") || !NativeLibs.loaderFinds("libcuda.so.1");
            String reason = noDriver ? "no NVIDIA driver (libcuda.so.1 not found)"
                    : "JCuda driver library could not be loaded: " + NativeLibs.oneLine(e);
            return unusable(reason, driver, gpus);
        } catch (CudaException e) {
            return unusable("CUDA driver error: " + NativeLibs.oneLine(e), driver, gpus);
        }
        if (!NativeLibs.fatbinPresent()) return unusable("CUDA backend not built (no fatbin resource)", driver, gpus);
        boolean capable = gpus.stream().anyMatch(g -> g.capability() >= MIN_CAPABILITY);
        String cublas = Blas.availability(), cusparse = SparseLib.availability();
        if (!capable) {
            return new CudaStatus(false, "no GPU with compute capability >= 8.0 (found " + gpus.get(0).computeCapability() + ")",
                    driver, gpus, cublas, cusparse);
        }
        return new CudaStatus(true, null, driver, gpus, cublas, cusparse);
    }

    /** Why the driver's cuDriverGetVersion answer rules CUDA out, or null when it does not. */
    static String driverVersionProblem(int rc, int v) {
        if (rc != CUresult.CUDA_SUCCESS) {
            return "the CUDA driver did not report its version (cuDriverGetVersion: " + CUresult.stringFor(rc) + ")";
        }
        if (v <= 0) return "the CUDA driver reported no version (cuDriverGetVersion: " + v + ")";
        if (v < MIN_DRIVER) return "driver " + version(v) + " too old: kernels need >= " + version(MIN_DRIVER);
        return null;
    }

    private static CudaStatus unusable(String reason, String driver, List<GpuInfo> gpus) {
        return new CudaStatus(false, reason, driver, gpus, "not checked", "not checked");
    }

    private static GpuInfo info(int ordinal) {
        CUdevice d = new CUdevice();
        cuDeviceGet(d, ordinal);
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, d);
        int len = 0;
        while (len < name.length && name[len] != 0) len++;
        long[] mem = new long[1];
        cuDeviceTotalMem(mem, d);
        int[] major = new int[1], minor = new int[1];
        cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
        cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
        return new GpuInfo(ordinal, new String(name, 0, len, StandardCharsets.US_ASCII).trim(), mem[0],
                major[0] + "." + minor[0]);
    }

    private static String version(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }

    /**
     * Announces that {@code runs} runs of this process will train on GPU {@code ordinal} at once
     * until the returned action is run, so each is sized against its share of the device's memory
     * rather than all of it ({@link DeviceShares}). Never throws on a machine without CUDA.
     */
    public static Runnable shareDevice(int ordinal, int runs) {
        return DeviceShares.plan(ordinal, runs);
    }

    /** How many runs of this process share GPU {@code ordinal} now (announced or open; at least 1). */
    public static int sharers(int ordinal) {
        return DeviceShares.sharers(ordinal);
    }

    /**
     * A CUDA backend on GPU {@code ordinal} with the given engine for inter-group edges
     * ("custom" or "cusparse"; null means custom). Throws UserError (one line) when CUDA is not
     * usable, the ordinal or engine is wrong, or the GPU runs out of memory.
     */
    public static Backend open(int ordinal, String sparseEngine) { return open(ordinal, sparseEngine, false); }

    /** As {@link #open(int, String)}; tf32: layer products on TF32-rounded operands (cuBLAS TF32 tensor-core math). */
    public static Backend open(int ordinal, String sparseEngine, boolean tf32) {
        String engine = sparseEngine == null ? "custom" : sparseEngine.trim().toLowerCase(java.util.Locale.ROOT);
        if (!SPARSE_ENGINES.contains(engine)) {
            throw new UserError("sparse engine '" + sparseEngine + "' is not one of " + SPARSE_ENGINES);
        }
        CudaStatus s = probe();
        if (!s.usable()) throw new UserError("device cuda:" + ordinal + " is not usable: " + s.reason());
        if (ordinal < 0 || ordinal >= s.gpus().size()) {
            throw new UserError("device cuda:" + ordinal + " does not exist: " + s.gpus().size() + " CUDA device(s) found");
        }
        GpuInfo gpu = s.gpus().get(ordinal);
        if (gpu.capability() < MIN_CAPABILITY) {
            throw new UserError("device cuda:" + ordinal + " (" + gpu.name() + ") has compute capability "
                    + gpu.computeCapability() + ": the kernels need >= 8.0");
        }
        if (engine.equals("cusparse") && !s.cusparse().startsWith("loaded")) {
            throw new UserError("sparse engine cusparse is not available: cuSPARSE " + s.cusparse());
        }
        byte[] fatbin = NativeLibs.fatbin();
        if (fatbin == null) throw new UserError("device cuda:" + ordinal + ": CUDA backend not built (no fatbin resource)");
        try {
            return new CudaBackend(ordinal, gpu, engine, fatbin, tf32);
        } catch (UserError e) {
            throw e;
        } catch (CudaException e) {
            throw new UserError("device cuda:" + ordinal + ": " + NativeLibs.oneLine(e), e);
        }
    }
}
