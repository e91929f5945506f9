package org.g2g.config;

/** --augment: training-time augmentation of the input images. */
public enum Augmentation implements Choice {
    /** crop-flip on CIFAR-10/100, none on the MNIST family (the paper's recipes) */
    AUTO,
    NONE,
    /** random 32 crop of the image zero-padded by 4 pixels, then a random horizontal flip, per sample */
    CROP_FLIP;

    @Override public String toString() { return spelling(); }
}
