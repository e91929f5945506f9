package org.g2g.model;

import org.g2g.config.ConfigError;
import org.g2g.config.EncoderKind;
import org.g2g.config.RunConfig;
import org.g2g.config.ImageShape;

/**
 * The paper's front end (its Figure 1): the image is cut into a rows x cols grid of
 * non-overlapping patches and one convolution with kernel = stride = patch size, shared
 * weights, bias and ReLU maps every patch to {@code outChannels} features. The patch vectors
 * are concatenated patch by patch (all channels of patch 0, then patch 1, ... in row-major
 * grid order), so index grouping on the first sparse layer keeps neighbouring patches together.
 *
 * Images are channel-major (c, y, x) rows of {@code channels * height * width} pixels, as the
 * IDX and CIFAR readers store them. A patch's input vector is ordered (c, dy, dx), so the
 * encoder weight (out x patchSize) is the convolution kernel out x channels x ph x pw.
 */
public record PatchEncoder(int channels, int height, int width, int rows, int cols, int outChannels) {

    public PatchEncoder {
        if (height % rows != 0) {
            throw new ConfigError("patches", rows + " grid rows do not divide the image height " + height);
        }
        if (width % cols != 0) {
            throw new ConfigError("patches", cols + " grid columns do not divide the image width " + width);
        }
    }

    /** The encoder of a run, or null for --encoder none; features is the dataset's pixel count. */
    public static PatchEncoder of(RunConfig c, int features) {
        if (c.encoderKind() != EncoderKind.PATCH) return null;
        int[] g = grid(c.patches());
        ImageShape img = ImageShape.of(c.dataset(), features, "encoder");
        return new PatchEncoder(img.channels(), img.height(), img.width(), g[0], g[1], c.patchChannels());
    }

    /** "RxC" -> {R, C}; the format is checked by RunConfig. */
    public static int[] grid(String rxc) {
        String[] p = rxc.toLowerCase(java.util.Locale.ROOT).split("x");
        return new int[]{Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
    }

    public int patchHeight() { return height / rows; }
    public int patchWidth() { return width / cols; }
    public int patches() { return rows * cols; }
    /** Inputs of one patch: channels x ph x pw. */
    public int patchSize() { return channels * patchHeight() * patchWidth(); }
    /** Width of the features the sparse network receives: patches x out channels. */
    public int features() { return patches() * outChannels; }
    public int pixels() { return channels * height * width; }
    /** Weights and biases; dense, never pruned. */
    public long params() { return (long) outChannels * patchSize() + outChannels; }
    /** Forward FLOPs per sample (a multiply-add = 2). */
    public long forwardFlops() { return 2L * outChannels * patchSize() * patches(); }

    /** The encoder as a dense layer: out channels x patch inputs. */
    public Mask mask() { return Mask.dense(outChannels, patchSize()); }

    /** Pixel index (row of the flattened image) of input k = (c, dy, dx) of patch p. */
    public int pixel(int p, int k) {
        int ph = patchHeight(), pw = patchWidth();
        int c = k / (ph * pw), dy = k / pw % ph, dx = k % pw;
        int y = p / cols * ph + dy, x = p % cols * pw + dx;
        return (c * height + y) * width + x;
    }

    /** "4x4" */
    public String gridString() { return rows + "x" + cols; }
}
