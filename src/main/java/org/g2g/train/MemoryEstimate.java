package org.g2g.train;

import org.g2g.UserError;
import org.g2g.config.ModelKind;
import org.g2g.config.RunConfig;
import org.g2g.dst.DstSettings;
import org.g2g.model.Architecture;
import org.g2g.model.PatchEncoder;

import java.util.Locale;

/**
 * Memory a run needs, estimated in 64-bit arithmetic from the config and the data sizes before
 * the model is built, so a run too large for the heap (or for one Java array) is refused in a
 * second with the figure and the limit, instead of an int overflow or an OutOfMemoryError after
 * the data load. The estimate counts what is alive at once at a checkpoint: masks, the dense
 * copies of weights and optimizer state the checkpoint writes, Hebbian scores, the packed
 * parameters with their gradients and state, activations and gradients of a batch, and the
 * backend's copy of the data. It is an estimate (allocator overheads are not counted).
 */
public final class MemoryEstimate {
    private MemoryEstimate() {}

    /** The largest Java array (elements), as the JDK's own collections assume. */
    public static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    /** What a run needs: host bytes, device bytes (0 on the CPU), and the batch capacity to allocate. */
    public record Need(long hostBytes, long deviceBytes, int batchCapacity) {}

    /**
     * The batch a network needs room for: --batch, or the largest split when that is smaller
     * (a batch larger than the training set is the whole set, every step).
     */
    public static int batchCapacity(RunConfig c, int... splitSizes) {
        int most = 1;
        for (int n : splitSizes) most = Math.max(most, n);
        return Math.min(c.batch(), most);
    }

    /** Estimates, and refuses a run whose arrays or memory do not fit; features = pixels per image. */
    public static Need check(RunConfig c, int features, int classes, int nTrain, int nVal, int nTest, boolean device) {
        PatchEncoder enc = PatchEncoder.of(c, features);
        int in0 = enc != null ? enc.features() : features;
        int width = c.modelKind() == ModelKind.DENSE && c.matchParams() ? Architecture.matchedWidth(c, in0, classes) : c.hidden();
        long[] widths = new long[c.layers() + 2];
        widths[0] = in0;
        for (int l = 1; l <= c.layers(); l++) widths[l] = width;
        widths[c.layers() + 1] = classes;
        int cap = batchCapacity(c, nTrain, nVal, nTest);
        int slots = Optimizer.from(c).slots();
        boolean hebbian = DstSettings.of(c).needsHebbian();
        double density = c.modelKind() == ModelKind.DENSE ? 1 : c.density() != null ? c.density() : Architecture.g2gDensity(c);
        long host = 0, packed = 0;
        for (int l = 0; l + 1 < widths.length; l++) {
            long out = widths[l + 1], in = widths[l], e = Math.multiplyExact(out, in);
            if (e > MAX_ARRAY) {
                throw new UserError(String.format(Locale.ROOT, "layer %d of %d x %d has %,d weights, more than one Java array holds "
                        + "(%,d); use a smaller --hidden", l, out, in, e, MAX_ARRAY));
            }
            boolean sparse = l < c.layers() && c.modelKind() != ModelKind.DENSE;
            long active = sparse ? (long) Math.ceil(e * Math.min(1, density)) : e;
            host += e;                              // the mask (boolean per edge)
            host += 4 * e * (1 + slots);            // dense weights and optimizer state a checkpoint writes
            if (sparse && hebbian) host += 4 * e;   // Hebbian scores
            packed += 4 * (active * (2 + slots) + out * (2 + slots)) + 4 * active; // weights, grads, state, indices
        }
        long act = 0;
        for (long w : widths) {
            long a = Math.multiplyExact(w, (long) cap);
            if (a > MAX_ARRAY) {
                throw new UserError(String.format(Locale.ROOT, "a batch of %,d samples of width %,d needs %,d activations, more than "
                        + "one Java array holds (%,d); use a smaller --batch", cap, w, a, MAX_ARRAY));
            }
            act += 2 * 4 * a;                       // activations and their gradients
        }
        long data = 4L * features * ((long) nTrain + nVal + nTest) + 12L * ((long) nTrain + nVal + nTest); // the backend's copy
        long onDevice = device ? packed + act + data : 0;
        if (!device) host += packed + act + data;
        return new Need(host, onDevice, cap);
    }

    /** Refuses when the need exceeds what this JVM (and the device, when known) can still give. */
    public static void refuseIfTooLarge(Need need, long deviceFree) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (need.hostBytes() > free) {
            throw new UserError("this run needs about " + gib(need.hostBytes()) + " of Java heap, more than the " + gib(free)
                    + " left of the " + gib(rt.maxMemory()) + " limit; use a smaller --hidden or --batch, or a larger heap "
                    + "(G2G_HEAP=32g ./g2g ...)");
        }
        if (deviceFree >= 0 && need.deviceBytes() > deviceFree) {
            throw new UserError("this run needs about " + gib(need.deviceBytes()) + " of device memory, more than the "
                    + gib(deviceFree) + " free on the device for it (its share, when runs train on it at once); "
                    + "use a smaller --hidden or --batch, or fewer --parallel runs");
        }
    }

    /** Bytes as "12.3 GiB" / "456 MiB". */
    public static String gib(long bytes) {
        if (bytes >= 1L << 30) return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        return String.format(Locale.ROOT, "%.0f MiB", bytes / (double) (1L << 20));
    }
}
