package org.g2g.backend;

/**
 * The numbers that change from one training step to the next: the learning rate, the 1-based
 * optimizer step t (with Adam's bias corrections derived from it on the host, in the float
 * arithmetic every backend uses) and the offset of the step's batch in the epoch's order. A
 * trainer hands them to {@link Backend#beginStep} before queueing the step's work; the step's
 * operations that take a StepScalars read them from there. On a device they are written into
 * device memory on the stream by value, so work recorded once (a CUDA graph) reads each step's
 * own values when it is replayed, with no launch argument patched.
 */
public record StepScalars(float lr, long t, int offset, float adamStep, float adamInvSqrtBc2) {
    /** Index of each value in the device copy (a float[4]; the offset is stored as an int's bits). */
    public static final int LR = 0, ADAM_STEP = 1, ADAM_INV_SQRT_BC2 = 2, OFFSET = 3, SIZE = 4;

    /** The scalars of step t (1-based) at learning rate lr; beta1 and beta2 are Adam's (ignored by SGD). */
    public static StepScalars of(float lr, long t, int offset, float beta1, float beta2) {
        if (t < 1) throw new IllegalArgumentException("step t is 1-based, got " + t);
        if (offset < 0) throw new IllegalArgumentException("batch offset " + offset + " < 0");
        return new StepScalars(lr, t, offset, adamStep(lr, beta1, t), adamInvSqrtBc2(beta2, t));
    }

    /** lr / (1 - beta1^t), as every backend's Adam computes it. */
    public static float adamStep(float lr, float beta1, long t) {
        float bc1 = (float) (1 - Math.pow(beta1, t));
        return lr / bc1;
    }

    /** 1 / sqrt(1 - beta2^t), as every backend's Adam computes it. */
    public static float adamInvSqrtBc2(float beta2, long t) {
        float bc2 = (float) (1 - Math.pow(beta2, t));
        return (float) (1.0 / Math.sqrt(bc2));
    }

    /** The device copy's words: {@link #LR}, {@link #ADAM_STEP}, {@link #ADAM_INV_SQRT_BC2} as float bits, {@link #OFFSET} as an int. */
    public int[] words() {
        return new int[]{Float.floatToRawIntBits(lr), Float.floatToRawIntBits(adamStep), Float.floatToRawIntBits(adamInvSqrtBc2),
                offset};
    }
}
