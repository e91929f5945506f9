package org.g2g.backend;

/** An int vector owned by a backend: labels, batch orders, edge indices. */
public abstract class IntVector implements AutoCloseable {
    public final int length;

    protected IntVector(int length) { this.length = length; }

    @Override
    public void close() {}
}
