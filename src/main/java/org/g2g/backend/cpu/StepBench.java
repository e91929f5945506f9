package org.g2g.backend.cpu;

import java.util.Locale;
import java.util.Random;
import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
import org.g2g.backend.IntVector;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.config.GroupingStrategy;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;

/**
 * Times a full training step through the {@link Backend} interface for the default model
 * 784 -> 1024 -> 1024 -> 1024 -> 10, batch 256, Adam, random data: the G2G model (G = 8,
 * p_intra 1, p_inter 0.15, mixer grouping) and the dense model of the same widths, in one
 * process. Prints samples/s, the sparse/dense ratio, per-op ms and GFLOP/s (useful FLOPs:
 * 2 x active edges x batch), and the 1024 x 1024 correlation product.
 *
 * Usage: java --add-modules jdk.incubator.vector -XX:ObjectAlignmentInBytes=64 -XX:+UseParallelGC -cp target/classes
 *        org.g2g.backend.cpu.StepBench [--threads T] [--batch B] [--steps N] [--rounds R] [--warmup N]
 *        [--sparse-only] [--probe]
 */
public final class StepBench {
    static final int[] WIDTHS = {784, 1024, 1024, 1024, 10};
    static final String[] OPS = {"gather", "forward", "loss", "backwardInput", "reluBackward", "weightGrad", "adam"};

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("--groupings")) {
            try (CpuBackend be = new CpuBackend(0)) {
                for (int k = 0; k < 3; k++) groupings(be, 256, new Random(3));
            }
            return;
        }
        int threads = 0, batch = 256, steps = 10, warmup = 15, rounds = 9;
        boolean probe = false, sparseOnly = false;
        for (int k = 0; k < args.length; k++) {
            switch (args[k]) {
                case "--threads" -> threads = Integer.parseInt(args[++k]);
                case "--batch" -> batch = Integer.parseInt(args[++k]);
                case "--steps" -> steps = Integer.parseInt(args[++k]);
                case "--warmup" -> warmup = Integer.parseInt(args[++k]);
                case "--rounds" -> rounds = Integer.parseInt(args[++k]);
                case "--probe" -> probe = true;
                case "--sparse-only" -> sparseOnly = true;
                default -> {
                    System.err.println("unknown argument '" + args[k] + "'");
                    System.exit(2);
                }
            }
        }
        try (CpuBackend be = new CpuBackend(threads)) {
            System.out.println("backend: " + be.description() + "; JVM " + System.getProperty("java.vm.version"));
            if (probe) {
                probeTiles(be, batch);
                return;
            }
            Random rng = new Random(1);
            Mask[] g2g = new Mask[4], dense = new Mask[4];
            for (int l = 0; l < 4; l++) {
                dense[l] = Mask.dense(WIDTHS[l + 1], WIDTHS[l]);
                g2g[l] = l == 3 ? dense[l] : MaskFactory.g2g(WIDTHS[l + 1], WIDTHS[l], 8, 1.0, 0.15,
                        Grouping.forLayer(GroupingStrategy.MIXER, l), rng);
            }
            Model ms = new Model(be, g2g, batch, rng), md = new Model(be, dense, batch, rng);
            if (sparseOnly) {
                for (int s = 0; s < warmup; s++) ms.step(false);
                for (int r = 0; r < rounds; r++) ms.round(steps);
                ms.report("g2g");
                return;
            }
            // interleave warm-up and timed rounds so both models see the same JIT state and
            // the same background load; a round's best is the least disturbed measurement
            for (int s = 0; s < warmup; s++) { ms.step(false); md.step(false); }
            for (int r = 0; r < rounds; r++) {
                if (r % 2 == 0) { ms.round(steps); md.round(steps); }
                else { md.round(steps); ms.round(steps); }
            }
            ms.report("g2g");
            md.report("dense");
            System.out.printf(Locale.ROOT, "ratio g2g/dense: %.2fx (best rounds), %.2fx (median rounds)%n",
                    ms.best() / md.best(), ms.median() / md.median());
            correlation(be, batch, rng);
            groupings(be, batch, rng);
        }
    }

    /** One 1024x1024 layer (forward + input gradient + weight gradient) per grouping: the permutation makes them cost the same. */
    static void groupings(CpuBackend be, int batch, Random rng) {
        int n = 1024;
        Tensor x = be.tensor(n, batch), y = be.tensor(n, batch), g = be.tensor(n, batch), dx = be.tensor(n, batch);
        float[] v = new float[n * batch];
        for (int k = 0; k < v.length; k++) v[k] = (float) rng.nextGaussian();
        be.write(x, v);
        be.write(g, v);
        Tensor bias = be.vector(n), gb = be.vector(n);
        StringBuilder sb = new StringBuilder("layer 1024x1024 G=8 fwd+bwdIn+wgrad, best of 10:");
        for (String kind : new String[] {"index", "interleaved", "random", "ER 0.256"}) {
            Mask m = kind.startsWith("ER") ? MaskFactory.erdosRenyi(n, n, 0.256, rng)
                    : MaskFactory.g2g(n, n, 8, 1.0, 0.15, Grouping.valueOf(kind.toUpperCase(java.util.Locale.ROOT)), rng);
            LayerPlan p = be.plan(m);
            Tensor w = be.vector(p.packedSize()), gw = be.vector(p.packedSize());
            float[] dense = new float[n * n];
            for (int k = 0; k < dense.length; k++) dense[k] = m.active[k] ? 0.01f : 0f;
            be.pack(p, dense, w);
            long best = Long.MAX_VALUE, bestCpu = Long.MAX_VALUE;
            for (int r = 0; r < 13; r++) {
                long c0 = cpuNanos(), s = System.nanoTime();
                be.forward(p, w, bias, x, y, batch, true);
                be.backwardInput(p, w, g, dx, batch);
                be.weightGrad(p, x, g, gw, gb, batch);
                long e = System.nanoTime();
                if (r >= 3) {
                    best = Math.min(best, e - s);
                    bestCpu = Math.min(bestCpu, (cpuNanos() - c0) / be.threads());
                }
            }
            sb.append(String.format(Locale.ROOT, " %s %.2f ms (CPU/thread %.2f ms);", kind, best * 1e-6, bestCpu * 1e-6));
        }
        System.out.println(sb);
    }

    /** One MLP's tensors and a training step through the Backend interface. */
    static final class Model {
        final Backend be;
        final int batch, n = 4096;
        final LayerPlan[] plan = new LayerPlan[4];
        final Tensor[] w = new Tensor[4], b = new Tensor[4], gw = new Tensor[4], gb = new Tensor[4];
        final Tensor[] mw = new Tensor[4], vw = new Tensor[4], mb = new Tensor[4], vb = new Tensor[4];
        final Tensor[] act = new Tensor[5], grad = new Tensor[5];
        final Tensor images, stats;
        final IntVector labels, order, yb;
        final long[] nanos = new long[OPS.length];
        final long[] flops = new long[OPS.length];
        long t = 0;
        int offset = 0;

        Model(CpuBackend be, Mask[] masks, int batch, Random rng) {
            this.be = be;
            this.threads = be.threads();
            this.batch = batch;
            for (int l = 0; l < 4; l++) {
                Mask m = masks[l];
                plan[l] = be.plan(m);
                float[] d = new float[m.out * m.in];
                float scale = (float) Math.sqrt(2.0 / (m.in * m.density()));
                for (int k = 0; k < d.length; k++) d[k] = m.active[k] ? (float) rng.nextGaussian() * scale : 0f;
                int ps = plan[l].packedSize();
                w[l] = be.vector(ps); gw[l] = be.vector(ps); mw[l] = be.vector(ps); vw[l] = be.vector(ps);
                be.pack(plan[l], d, w[l]);
                b[l] = be.vector(m.out); gb[l] = be.vector(m.out); mb[l] = be.vector(m.out); vb[l] = be.vector(m.out);
            }
            for (int l = 0; l < 5; l++) {
                act[l] = be.tensor(WIDTHS[l], batch);
                grad[l] = be.tensor(WIDTHS[l], batch);
            }
            images = be.tensor(n, WIDTHS[0]);
            float[] img = new float[n * WIDTHS[0]];
            for (int k = 0; k < img.length; k++) img[k] = rng.nextFloat();
            be.write(images, img);
            labels = be.ints(n); order = be.ints(n); yb = be.ints(batch);
            int[] lab = new int[n], ord = new int[n];
            for (int k = 0; k < n; k++) { lab[k] = rng.nextInt(10); ord[k] = k; }
            for (int k = n - 1; k > 0; k--) { int j = rng.nextInt(k + 1); int q = ord[k]; ord[k] = ord[j]; ord[j] = q; }
            be.write(labels, lab); be.write(order, ord);
            stats = be.vector(2);
        }

        private long mark(int op, long since) {
            be.sync();
            long now = System.nanoTime();
            nanos[op] += now - since;
            return now;
        }

        void step(boolean count) {
            long s = System.nanoTime();
            if (offset + batch > n) offset = 0;
            be.gather(images, labels, order, offset, batch, act[0], yb);
            offset += batch;
            s = mark(0, s);
            for (int l = 0; l < 4; l++) {
                be.forward(plan[l], w[l], b[l], act[l], act[l + 1], batch, l < 3);
                if (count) flops[1] += 2 * plan[l].activeEdges() * batch;
            }
            s = mark(1, s);
            be.softmaxCrossEntropy(act[4], yb, grad[4], stats, batch);
            s = mark(2, s);
            for (int l = 3; l >= 0; l--) {
                be.weightGrad(plan[l], act[l], grad[l + 1], gw[l], gb[l], batch);
                if (count) flops[5] += 2 * plan[l].activeEdges() * batch;
                s = mark(5, s);
                if (l > 0) {
                    be.backwardInput(plan[l], w[l], grad[l + 1], grad[l], batch);
                    if (count) flops[3] += 2 * plan[l].activeEdges() * batch;
                    s = mark(3, s);
                    be.reluBackward(act[l], grad[l], batch);
                    s = mark(4, s);
                }
            }
            t++;
            for (int l = 0; l < 4; l++) {
                be.adam(w[l], gw[l], mw[l], vw[l], 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, t);
                be.adam(b[l], gb[l], mb[l], vb[l], 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, t);
            }
            mark(6, s);
        }

        final java.util.List<Double> rates = new java.util.ArrayList<>();
        /** Samples/s had every thread had its core to itself: process CPU time / threads. Robust to other load. */
        final java.util.List<Double> cpuRates = new java.util.ArrayList<>();
        final int threads;
        long[] bestNanos = new long[OPS.length];
        long[] bestFlops = new long[OPS.length];
        int bestSteps = 1;

        /** Times `steps` steps; keeps the per-op split of the fastest round. */
        void round(int steps) {
            java.util.Arrays.fill(nanos, 0);
            java.util.Arrays.fill(flops, 0);
            long c0 = cpuNanos();
            long s = System.nanoTime();
            for (int k = 0; k < steps; k++) step(true);
            long e = System.nanoTime();
            cpuRates.add((double) steps * batch / ((cpuNanos() - c0) * 1e-9 / threads));
            double rate = (double) steps * batch / ((e - s) * 1e-9);
            if (rates.isEmpty() || rate > best()) {
                bestNanos = nanos.clone();
                bestFlops = flops.clone();
                bestSteps = steps;
            }
            rates.add(rate);
        }

        double best() { return rates.stream().mapToDouble(Double::doubleValue).max().orElse(0); }

        double median() {
            double[] r = rates.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return r.length == 0 ? 0 : r[r.length / 2];
        }

        void report(String name) {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-6s per step (best round):", name));
            long params = 0, edges = 0;
            for (int l = 0; l < 4; l++) { params += plan[l].packedSize(); edges += plan[l].activeEdges(); }
            for (int op = 0; op < OPS.length; op++) {
                double ms = bestNanos[op] * 1e-6 / bestSteps;
                sb.append(String.format(Locale.ROOT, " %s %.2f ms", OPS[op], ms));
                if (bestFlops[op] > 0) {
                    sb.append(String.format(Locale.ROOT, " (%.1f GFLOP/s)", bestFlops[op] / (bestNanos[op] * 1e-9) * 1e-9));
                }
                sb.append(';');
            }
            System.out.println(sb);
            System.out.printf(Locale.ROOT, "%-6s active edges %d, packed floats %d%n", name, edges, params);
            System.out.printf(Locale.ROOT, "%-6s: %8.0f samples/s best round (%.2f ms/step), %8.0f median of %d rounds"
                    + " (CPU-time bound: %.0f samples/s; far above wall-clock means other load)%n",
                    name, best(), 1e3 * batch / best(), median(), rates.size(),
                    cpuRates.stream().mapToDouble(Double::doubleValue).max().orElse(0));
        }
    }

    /** CPU time of every live thread of this JVM, in ns (the process clock ticks only every 10 ms). */
    static long cpuNanos() {
        var tm = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : tm.getAllThreadIds()) sum += Math.max(0, tm.getThreadCpuTime(id));
        return sum;
    }

    static void correlation(CpuBackend be, int batch, Random rng) {
        int n = 1024;
        Tensor y = be.tensor(n, batch), x = be.tensor(n, batch), sc = be.vector(n * n);
        float[] v = new float[n * batch];
        for (int k = 0; k < v.length; k++) v[k] = (float) rng.nextGaussian();
        be.write(y, v);
        for (int k = 0; k < v.length; k++) v[k] = (float) rng.nextGaussian();
        be.write(x, v);
        for (Correlation kind : Correlation.values()) {
            for (int k = 0; k < 5; k++) be.correlation(y, x, batch, kind, sc);
            long best = Long.MAX_VALUE;
            for (int k = 0; k < 10; k++) {
                long s = System.nanoTime();
                be.correlation(y, x, batch, kind, sc);
                best = Math.min(best, System.nanoTime() - s);
            }
            double ms = best * 1e-6;
            System.out.printf(Locale.ROOT, "correlation %s 1024x1024 batch %d: %.2f ms best of 10 (%.1f GFLOP/s)%n",
                    kind, batch, ms, 2.0 * n * n * batch / (ms * 1e-3) * 1e-9);
        }
    }

    /**
     * The dense-tile break-even: one 1024 x 1024 layer of 8 x 8 tiles of 128 x 128 at a given
     * density, every tile stored dense or every tile sparse; times forward + input gradient +
     * weight gradient and prints useful GFLOP/s of both layouts.
     */
    static void probeTiles(CpuBackend be, int batch) {
        Random rng = new Random(2);
        int n = 1024;
        Tensor x = be.tensor(n, batch), y = be.tensor(n, batch), g = be.tensor(n, batch), dx = be.tensor(n, batch);
        float[] v = new float[n * batch];
        for (int k = 0; k < v.length; k++) v[k] = (float) rng.nextGaussian();
        be.write(x, v);
        be.write(g, v);
        Tensor bias = be.vector(n), gb = be.vector(n);
        for (double d : new double[] {0.15, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}) {
            Mask m = MaskFactory.g2g(n, n, 8, d, d, Grouping.INDEX, rng);
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "tile density %.2f:", d));
            for (double thr : new double[] {0.0, 2.0}) {
                CpuPlan p = new CpuPlan(org.g2g.backend.layout.GroupedLayout.of(m, thr), be.threads());
                Tensor w = be.vector(p.packedSize()), gw = be.vector(p.packedSize());
                float[] dense = new float[n * n];
                for (int k = 0; k < dense.length; k++) dense[k] = m.active[k] ? 0.01f : 0f;
                be.pack(p, dense, w);
                long best = Long.MAX_VALUE; // process CPU time / threads: robust to other load on the machine
                for (int r = 0; r < 12; r++) {
                    long s = cpuNanos();
                    be.forward(p, w, bias, x, y, batch, true);
                    be.backwardInput(p, w, g, dx, batch);
                    be.weightGrad(p, x, g, gw, gb, batch);
                    best = Math.min(best, (cpuNanos() - s) / be.threads());
                }
                double gf = 3.0 * 2 * p.activeEdges() * batch / best;
                sb.append(String.format(Locale.ROOT, " %s %.2f ms (%.1f useful GFLOP/s)",
                        thr == 0.0 ? "dense-tiles" : "sparse-edges", best * 1e-6, gf));
            }
            System.out.println(sb);
        }
    }
}
