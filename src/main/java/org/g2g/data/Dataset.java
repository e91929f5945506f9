package org.g2g.data;

/** A loaded dataset: flattened float features and int labels in [0, classes). */
public record Dataset(String name, int features, int classes, Split train, Split test) {}
