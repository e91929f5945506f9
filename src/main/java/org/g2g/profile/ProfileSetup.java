package org.g2g.profile;

import org.g2g.UserError;
import org.g2g.config.ModelKind;
import org.g2g.config.RunConfig;
import org.g2g.data.Split;
import org.g2g.model.Architecture;

import java.util.Locale;
import java.util.Random;

/**
 * What `g2g profile` settles before it measures: data of the run's shape (real or
 * synthetic), and a refusal, before allocating, of a model that cannot fit in memory.
 */
final class ProfileSetup {
    private ProfileSetup() {}

    /** Features and classes of a dataset, for synthetic data of its shape. */
    public static int[] shape(String dataset) {
        return switch (dataset) {
            case "fashion-mnist", "mnist" -> new int[]{784, 10};
            case "cifar10" -> new int[]{3072, 10};
            case "cifar100" -> new int[]{3072, 100};
            default -> throw new UserError("option --dataset: no known shape for '" + dataset + "'");
        };
    }

    /** Random inputs in [0,1) and labels: 8 batches, at least 16,384 samples, so gathers do not live in cache. */
    static Split synthetic(int batch, int features, int classes, long seed) {
        long want = Math.max(8L * batch, 16384L);
        long cap = Math.max(batch, (1L << 26) / features); // at most 256 MiB of floats
        int n = (int) Math.min(want, Math.min(cap, Integer.MAX_VALUE / Math.max(1, features)));
        n = Math.max(batch, n / batch * batch);
        Random rng = new Random(seed ^ 0x5A17);
        float[] x = new float[n * features];
        for (int k = 0; k < x.length; k++) x[k] = rng.nextFloat();
        int[] y = new int[n];
        for (int s = 0; s < n; s++) y[s] = rng.nextInt(classes);
        return new Split(x, y, n, features);
    }

    /**
     * Refuses, before allocating, a model whose layers cannot fit: a weight matrix past a Java
     * array, or more bytes than the heap has (a lower bound: the mask and the initial weights).
     */
    static void checkFits(RunConfig c, int features, int classes) {
        int width = c.modelKind() == ModelKind.DENSE && c.matchParams() ? Architecture.matchedWidth(c, features, classes) : c.hidden();
        long bytes = 0;
        int prev = features;
        for (int l = 0; l <= c.layers(); l++) {
            int out = l == c.layers() ? classes : width;
            long edges = (long) out * prev;
            if (edges > Integer.MAX_VALUE - 16) {
                throw new UserError("model " + c.modelKind() + ": layer " + l + " is " + out + " x " + prev + " = " + edges
                        + " weights, more than one Java array holds; lower --hidden");
            }
            bytes += edges * 5 + 4L * out * c.batch() * 2;
            prev = out;
        }
        long free = MemoryProbe.maxHeap() - (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory());
        if (bytes > free) {
            throw new UserError("model " + c.modelKind() + " (hidden " + width + ", layers " + c.layers() + ", batch " + c.batch()
                    + ") needs more memory than the Java heap allows: at least " + gib(bytes) + ", " + gib(free)
                    + " free of " + gib(MemoryProbe.maxHeap()) + "; raise G2G_HEAP (e.g. G2G_HEAP=16g ./g2g profile ...) "
                    + "or lower --hidden / --batch");
        }
    }

    static boolean isDeviceOutOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && m.matches("(?is).*(out[ _]of[ _]memory|MemoryAllocation).*")) return true;
        }
        return false;
    }

    static UserError memoryError(String what, OutOfMemoryError e) {
        return new UserError(what + " needs more memory than the Java heap allows (max "
                + gib(MemoryProbe.maxHeap()) + "): raise G2G_HEAP (e.g. G2G_HEAP=16g ./g2g profile ...) or lower --hidden / --batch", e);
    }

    static String gib(long b) { return String.format(Locale.ROOT, "%.1f GiB", b / (double) (1L << 30)); }
}
