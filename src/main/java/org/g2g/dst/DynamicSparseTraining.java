package org.g2g.dst;

import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
import org.g2g.backend.Tensor;
import org.g2g.config.RunConfig;
import org.g2g.model.Mask;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Prune-and-regrow every {@code update-every} optimizer steps on each sparse hidden layer:
 * prune a fraction of active edges by the prune rule, regrow exactly as many inactive edges
 * by the regrow rule, new weights at 0 with fresh optimizer state. The edge count of every
 * layer is unchanged (checked). Runs on the host from dense copies: updates are rare (every
 * 1000 steps by default), so the transfers cost little next to the training between them.
 */
public final class DynamicSparseTraining implements AutoCloseable {
    private final RewirableNetwork net;
    private final Backend be;
    private final PruneRule prune;
    private final RegrowRule regrow;
    private final int updateEvery;
    private final double fraction;
    private final boolean cosine;
    private final long totalSteps;
    private final long seed;
    private final int window;
    private final HebbianScores[] hebbian;
    private final boolean enabled;

    public DynamicSparseTraining(RunConfig c, RewirableNetwork net, long totalSteps) {
        this(DstSettings.of(c), net, totalSteps);
    }

    public DynamicSparseTraining(DstSettings s, RewirableNetwork net, long totalSteps) {
        this.net = net;
        this.be = net.backend();
        this.prune = s.prune();
        this.regrow = s.regrow();
        this.updateEvery = s.updateEvery();
        this.fraction = s.fraction();
        this.cosine = s.cosineSchedule();
        this.totalSteps = totalSteps;
        this.seed = s.seed();
        this.window = HebbianScores.window(s.hebbianEma(), updateEvery);
        this.hebbian = new HebbianScores[net.depth()];
        boolean anySparse = false;
        for (int l = 0; l < net.depth(); l++) anySparse |= net.layer(l).sparse();
        this.enabled = s.on() && anySparse;
        for (int l = 0; l < net.depth(); l++) {
            RewirableLayer L = net.layer(l);
            if (enabled && L.sparse() && s.needsHebbian()) {
                hebbian[l] = new HebbianScores(be, L.out(), L.in(), s.correlation(), s.hebbianEma());
            }
        }
    }

    public boolean enabled() { return enabled; }

    /** Prune fraction at step t: constant, or cosine-decayed to 0 at the end (RigL). */
    public double fractionAt(long t) {
        if (!cosine) return fraction;
        return fraction * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, (double) t / totalSteps)));
    }

    /**
     * Called after optimizer step {@code step} (1-based) while the step's activations and
     * gradients are still in the network's buffers. Returns the update's statistics, or an
     * empty list when this step is not an update.
     */
    public List<DstStats> afterStep(long step, int batch, DstClock clock) {
        if (observes(step)) {
            observe(batch, clock);
            observed();
        }
        return update(step, batch, clock);
    }

    /** Whether step's activations feed the Hebbian scores (the window before an update, the update step included). */
    public boolean observes(long step) {
        if (!enabled) return false;
        long phase = step % updateEvery;
        if (phase != 0 && updateEvery - phase >= window) return false;
        for (HebbianScores h : hebbian) if (h != null) return true;
        return false;
    }

    /**
     * What {@link #observe} queues depends on (per layer: a fresh window or an EMA step), for
     * keying a recorded step; "" when this step observes nothing.
     */
    public String observeState(long step) {
        if (!observes(step)) return "";
        StringBuilder b = new StringBuilder();
        for (HebbianScores h : hebbian) b.append(h == null ? '-' : h.fresh() ? 'f' : 'e');
        return b.toString();
    }

    /** The device work of the Hebbian observation of a step (a recorded step may hold it); changes no host state. */
    public void observe(int batch, DstClock clock) {
        clock.scoring();
        for (int l = 0; l < net.depth(); l++) {
            if (hebbian[l] != null) hebbian[l].queue(net.activation(l + 1), net.activation(l), batch);
        }
    }

    /** The host side of {@link #observe}, after it ran or was replayed. */
    public void observed() {
        for (HebbianScores h : hebbian) if (h != null) h.observed();
    }

    /** The prune-and-regrow of an update step (reads scores back; never recorded); empty on other steps. */
    public List<DstStats> update(long step, int batch, DstClock clock) {
        if (!enabled || step % updateEvery != 0) return List.of();
        List<DstStats> out = new ArrayList<>();
        for (int l = 0; l < net.depth(); l++) {
            if (!net.layer(l).sparse()) continue;
            float[] heb = null;
            if (hebbian[l] != null) {
                clock.scoring();
                heb = hebbian[l].take();
            }
            float[] grad = null;
            if (regrow == RegrowRule.GRADIENT) {
                clock.scoring();
                grad = denseGradient(l, batch);
            }
            clock.rewiring();
            out.add(rewire(step, l, heb, grad));
        }
        return out;
    }

    private float[] denseGradient(int l, int batch) {
        RewirableLayer L = net.layer(l);
        try (Tensor g = be.vector(L.out() * L.in())) {
            be.correlation(net.gradient(l + 1), net.activation(l), batch, Correlation.RAW, g);
            return be.read(g);
        }
    }

    private DstStats rewire(long step, int l, float[] hebbianScores, float[] gradient) {
        RewirableLayer L = net.layer(l);
        Mask m = L.mask();
        boolean[] active = m.active.clone();
        long before = m.activeCount();
        int k = (int) Math.round(fractionAt(step) * before);
        float[] w = L.denseWeights(be);
        float[][] state = L.denseState(be);
        Random rng = new Random(mix(seed, step, l));
        int[] pruned = prune.choose(active, w, hebbianScores, k, rng);
        boolean[] wasPruned = new boolean[active.length];
        for (int e : pruned) {
            active[e] = false;
            wasPruned[e] = true;
            zero(w, state, e);
        }
        float[] regrowScores = regrow == RegrowRule.GRADIENT ? gradient : hebbianScores;
        int[] grown = regrow.choose(active, regrowScores, pruned.length, rng);
        int again = 0;
        for (int e : grown) {
            active[e] = true;
            if (wasPruned[e]) again++;
            zero(w, state, e);
        }
        Mask next = new Mask(m.out, m.in, active, m.groupOut, m.groupIn);
        long after = next.activeCount();
        if (after != before) {
            throw new IllegalStateException("DST changed the edge count of layer " + l + ": " + before + " -> " + after);
        }
        L.repack(be, next, w, state);
        return new DstStats(step, l, pruned.length, grown.length, again, next.intraGroupShare(), next.deadUnits(),
                next.density());
    }

    private static void zero(float[] w, float[][] state, int e) {
        w[e] = 0f;
        for (float[] s : state) s[e] = 0f;
    }

    /** A seed for (run seed, step, layer) so DST draws don't depend on what ran before. */
    public static long mix(long seed, long a, long b) {
        long h = seed * 0x9E3779B97F4A7C15L + a * 0xC2B2AE3D27D4EB4FL + b * 0x165667B19E3779F9L;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return h;
    }

    public HebbianScores hebbian(int layer) { return hebbian[layer]; }

    @Override
    public void close() {
        for (HebbianScores h : hebbian) if (h != null) h.close();
    }
}
