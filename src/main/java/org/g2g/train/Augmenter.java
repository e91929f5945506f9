package org.g2g.train;

import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.backend.StepScalars;
import org.g2g.backend.Tensor;
import org.g2g.config.Augmentation;
import org.g2g.config.RunConfig;
import org.g2g.config.ImageShape;
import org.g2g.dst.DynamicSparseTraining;

import java.util.Random;

/**
 * CIFAR's training augmentation: a random crop of the image zero-padded by {@link #PAD}
 * pixels and a random horizontal flip, per sample. The draws of a step come from (seed,
 * step) alone, so a resumed run sees the same crops as an uninterrupted one. The batch is
 * gathered into a scratch tensor and cropped and flipped on the backend into the network's input.
 */
public final class Augmenter implements AutoCloseable {
    public static final int PAD = 4;

    public final ImageShape shape;
    private final Tensor scratch;
    private final IntVector params;
    private final int[] host;
    private final long seed;

    Augmenter(Backend be, ImageShape shape, int batchCapacity, long seed) {
        this.shape = shape;
        this.seed = seed;
        scratch = be.tensor(shape.pixels(), batchCapacity);
        params = be.ints(3 * batchCapacity);
        host = new int[3 * batchCapacity];
    }

    /** The run's augmenter, or null when --augment resolves to none. */
    public static Augmenter of(RunConfig c, Backend be, int features, int batchCapacity) {
        if (c.augment() != Augmentation.CROP_FLIP) return null;
        return new Augmenter(be, ImageShape.of(c.dataset(), features, "augment"), batchCapacity, c.seed());
    }

    /** (oy, ox, flip) per sample of the 1-based optimizer step; oy, ox in [0, 2 PAD]. */
    public static int[] draws(long seed, long step, int batch, int[] out) {
        Random r = new Random(DynamicSparseTraining.mix(seed, step, 0xa06e));
        for (int b = 0; b < batch; b++) {
            out[3 * b] = r.nextInt(2 * PAD + 1);
            out[3 * b + 1] = r.nextInt(2 * PAD + 1);
            out[3 * b + 2] = r.nextBoolean() ? 1 : 0;
        }
        return out;
    }

    /**
     * Writes the crops and flips of the 1-based step into the device (waits for the device: done
     * before the step's work, outside a recorded step).
     */
    public void prepare(Backend be, long step, int bs) {
        be.write(params, draws(seed, step, bs, host));
    }

    /** Gathers the step's samples (order from s's offset, bs of them) of data and writes them augmented into x. */
    public void gather(Backend be, ResidentSplit data, IntVector order, StepScalars s, int bs, Tensor x, IntVector labels) {
        be.gather(data.x, data.y, order, s, bs, scratch, labels);
        be.cropFlip(scratch, x, params, shape.channels(), shape.height(), shape.width(), PAD, bs);
    }

    @Override
    public void close() {
        scratch.close();
        params.close();
    }
}
