package org.g2g.backend.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.util.HashMap;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

/**
 * The kernel module, loaded once from the fatbin bytes; CUfunction handles cached by name; one
 * launch helper. Kernel arguments are given as Java values and must match the kernel's C
 * parameter types exactly: Integer (or Boolean) for int, Long for long long, Float for float, a
 * tensor / int vector / CUdeviceptr for a pointer, null for a null pointer. Every launch is
 * checked against the signature table the build generated from the .cu sources.
 */
final class Kernels {
    private final CUmodule module = new CUmodule();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final KernelSignatures signatures;
    private boolean loaded;

    Kernels(byte[] fatbin) {
        signatures = KernelSignatures.load();
        if (signatures == null) {
            throw new IllegalStateException("kernel signature table " + KernelSignatures.RESOURCE + " missing from the build");
        }
        cuModuleLoadData(module, fatbin);
        loaded = true;
    }

    /** Throws IllegalArgumentException unless args match the kernel's C parameters (see class comment). */
    static void check(KernelSignatures signatures, String name, Object... args) {
        signatures.check(name, args, Kernels::kindOf);
    }

    /** The C kind a Java argument is marshalled as by {@link #param}; null when it cannot be. */
    static KernelSignatures.Type kindOf(Object a) {
        if (a == null) return KernelSignatures.Type.POINTER;
        if (a instanceof Integer || a instanceof Boolean) return KernelSignatures.Type.INT;
        if (a instanceof Long) return KernelSignatures.Type.LONG;
        if (a instanceof Float) return KernelSignatures.Type.FLOAT;
        if (a instanceof CudaTensor || a instanceof CudaIntVector || a instanceof DeviceMemory
                || a instanceof CUdeviceptr) return KernelSignatures.Type.POINTER;
        return null;
    }

    CUfunction function(String name) {
        return functions.computeIfAbsent(name, n -> {
            CUfunction f = new CUfunction();
            cuModuleGetFunction(f, module, n);
            return f;
        });
    }

    void launch(String name, CUstream stream, int gx, int gy, int gz, int bx, int by, int bz, Object... args) {
        check(signatures, name, args); // also for empty problems, so a wrong call fails on any shape
        if (gx <= 0 || gy <= 0 || gz <= 0) return; // empty problem
        if (gy > 65535 || gz > 65535) throw new IllegalArgumentException(name + ": grid " + gx + "x" + gy + "x" + gz + " too large");
        Pointer[] params = new Pointer[args.length];
        for (int k = 0; k < args.length; k++) params[k] = param(name, k, args[k]);
        cuLaunchKernel(function(name), gx, gy, gz, bx, by, bz, 0, stream, Pointer.to(params), null);
    }

    private static Pointer param(String name, int k, Object a) {
        if (a == null) return Pointer.to(new long[] {0L});
        if (a instanceof CudaTensor t) return Pointer.to(t.ptr());
        if (a instanceof CudaIntVector v) return Pointer.to(v.ptr());
        if (a instanceof DeviceMemory m) return Pointer.to(m.ptr());
        if (a instanceof CUdeviceptr p) return Pointer.to(p);
        if (a instanceof Integer i) return Pointer.to(new int[] {i});
        if (a instanceof Long l) return Pointer.to(new long[] {l});
        if (a instanceof Float f) return Pointer.to(new float[] {f});
        if (a instanceof Boolean b) return Pointer.to(new int[] {b ? 1 : 0});
        throw new IllegalArgumentException(name + ": unsupported argument " + k + " of type " + a.getClass());
    }

    void unload() {
        if (loaded) {
            loaded = false;
            functions.clear();
            cuModuleUnload(module);
        }
    }
}
