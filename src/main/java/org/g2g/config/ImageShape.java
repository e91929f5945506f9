package org.g2g.config;


/**
 * The geometry of a dataset's images: rows of channels x height x width pixels, channel-major
 * (c, y, x), as the IDX and CIFAR readers store them.
 */
public record ImageShape(int channels, int height, int width) {

    public int pixels() { return channels * height * width; }

    /** 1x28x28 for the MNIST family, 3x32x32 for CIFAR; any other square single-channel size is taken as such. */
    public static ImageShape of(String dataset, int features, String option) {
        ImageShape s = dataset.startsWith("cifar") ? new ImageShape(3, 32, 32) : new ImageShape(1, 28, 28);
        if (s.pixels() == features) return s;
        int side = (int) Math.round(Math.sqrt(features));
        if (side * side != features) {
            throw new ConfigError(option, "needs square images; dataset " + dataset + " has " + features + " features");
        }
        return new ImageShape(1, side, side);
    }

    @Override public String toString() { return channels + "x" + height + "x" + width; }
}
