package org.g2g.data;

import org.g2g.UserError;

import java.nio.file.Path;
import java.util.List;

/** One file of images for prediction: an idx3-ubyte images file (gzip or raw) or a CIFAR binary batch. */
public final class ImageFiles {
    private ImageFiles() {}

    /**
     * The images of file as [0,1] floats, sample-major. The format is told by the file: the
     * IDX magic number, else a CIFAR batch whose record size fits a model with `classes`
     * outputs (CIFAR-10 with 10, CIFAR-100 with 100). Labels are those in the file (CIFAR) or 0.
     */
    public static Split read(Path file, int classes) {
        byte[] head = DataFiles.read(file, 4, h -> -1); // the first 4 (inflated) bytes: the format's magic, if any
        if (head.length >= 4 && ((head[0] & 0xff) << 24 | (head[1] & 0xff) << 16 | (head[2] & 0xff) << 8 | (head[3] & 0xff)) == IdxReader.IMAGES_MAGIC) {
            IdxReader.Images im = IdxReader.readImages(file);
            int f = im.features();
            float[] x = new float[im.n() * f];
            DataFiles.toUnit(im.bytes(), im.offset(), x, 0, x.length);
            return new Split(x, new int[im.n()], im.n(), f);
        }
        CifarReader.Variant v = classes == 100 ? CifarReader.Variant.CIFAR100 : CifarReader.Variant.CIFAR10;
        byte[] b = DataFiles.read(file, 0, h -> (long) CifarReader.MAX_RECORDS * v.recordSize());
        if (b.length == 0 || b.length % v.recordSize() != 0) {
            throw new UserError("--input " + file + ": neither an idx3-ubyte images file (no magic number 0x00000803)"
                    + " nor a " + v.title + " binary batch (size " + b.length + " is not a multiple of "
                    + v.recordSize() + " bytes)");
        }
        Path dir = file.toAbsolutePath().getParent();
        return CifarReader.readBatches(v, dir, List.of(file.getFileName().toString()));
    }
}
