package org.g2g.model;

import java.util.Arrays;

/**
 * Connectivity of one layer: edge (out o, in i) is active when {@code active[o * in + i]}.
 * Row-major like the weight matrix W (out x in). Group labels of both sides are kept
 * (null for masks without group structure) so statistics such as the intra-group share
 * can be reported after regrowth moved edges around.
 */
public final class Mask {
    public final int out;
    public final int in;
    public final boolean[] active;
    public final int[] groupOut;
    public final int[] groupIn;

    public Mask(int out, int in, boolean[] active, int[] groupOut, int[] groupIn) {
        if (active.length != (long) out * in) throw new IllegalArgumentException("mask size mismatch");
        this.out = out;
        this.in = in;
        this.active = active;
        this.groupOut = groupOut;
        this.groupIn = groupIn;
    }

    public static Mask dense(int out, int in) {
        boolean[] a = new boolean[out * in];
        Arrays.fill(a, true);
        return new Mask(out, in, a, null, null);
    }

    public boolean get(int o, int i) { return active[o * in + i]; }

    public long activeCount() {
        long c = 0;
        for (boolean b : active) if (b) c++;
        return c;
    }

    public double density() { return (double) activeCount() / ((long) out * in); }

    public boolean isDense() {
        for (boolean b : active) if (!b) return false;
        return true;
    }

    /** Fraction of active edges that join units of the same group (NaN without groups). */
    public double intraGroupShare() {
        if (groupOut == null || groupIn == null) return Double.NaN;
        long intra = 0, all = 0;
        for (int o = 0; o < out; o++) {
            int base = o * in, go = groupOut[o];
            for (int i = 0; i < in; i++) {
                if (active[base + i]) {
                    all++;
                    if (groupIn[i] == go) intra++;
                }
            }
        }
        return all == 0 ? Double.NaN : (double) intra / all;
    }

    /** Output units with no active incoming edge: they can never carry signal. */
    public int deadUnits() {
        int dead = 0;
        for (int o = 0; o < out; o++) {
            boolean any = false;
            int base = o * in;
            for (int i = 0; i < in && !any; i++) any = active[base + i];
            if (!any) dead++;
        }
        return dead;
    }

    public int rowCount(int o) {
        int c = 0, base = o * in;
        for (int i = 0; i < in; i++) if (active[base + i]) c++;
        return c;
    }

    public Mask copy() {
        return new Mask(out, in, active.clone(), groupOut == null ? null : groupOut.clone(),
                groupIn == null ? null : groupIn.clone());
    }

    public byte[] toBytes() {
        byte[] b = new byte[active.length];
        for (int k = 0; k < b.length; k++) b[k] = (byte) (active[k] ? 1 : 0);
        return b;
    }
}
