package org.g2g.jmh;

import org.g2g.backend.Correlation;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.backend.cpu.CpuBackend;
import org.g2g.backend.cpu.DenseEngine;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * JMH benchmarks of the CPU backend's hot loops on one hidden layer of the default model:
 * width x width, batch 256, a G2G mask (8 groups, p_intra 1, p_inter 0.15: density 0.256) or
 * the dense one, on both dense engines; and the default step's small dense layers, which the
 * backend splits by batch columns or the batch and runs partly on the Vector API kernels
 * (cpu/DenseSplit): the 10-unit head (10 x width) and the patch encoder (32 x 49 over 16 patches
 * x batch columns). Build and run (about 10 minutes):
 * <pre>
 *   mvn -Pjmh -DskipTests package && java -jar target/benchmarks.jar
 * </pre>
 * JMH options narrow it, e.g. {@code java -jar target/benchmarks.jar forward -p mask=g2g -p engine=openblas -f 1}
 * or, one thread: {@code java -jar target/benchmarks.jar CpuKernelsBench.forward -p mask=er-0.1 -p engine=openblas -p threads=1 -f 1}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
public class CpuKernelsBench {
    /**
     * er-0.01: an Erdos-Renyi layer at 1%, where a call is tens of microseconds and the work pool's hand-off shows;
     * er-0.1: one at 10%, all residual edges and no dense block: with threads=1 its forward is the JVM counterpart of
     * benchmarks/edge-bound.sh's "er density 0.100" line (the same edge loop in C);
     * head: the dense 10 x width output layer; encoder: the dense 32 x 49 patch encoder over 16 x batch columns.
     */
    @Param({"g2g", "dense", "er-0.01", "er-0.1", "head", "encoder"})
    public String mask;

    /** The dense engine: OpenBLAS (the default) or our Vector API kernels; G2G and ER residual edges run the same kernels in both. */
    @Param({"openblas", "vector"})
    public String engine;

    @Param({"1024"})
    public int width;

    @Param({"256"})
    public int batch;

    /** Worker threads of the backend; 0 means one per core, as `g2g train` runs. */
    @Param({"0"})
    public int threads;

    private CpuBackend be;
    private LayerPlan plan;
    /** The layer's shape and batch columns (the encoder's columns are 16 patches per sample). */
    private int out, in, cols;
    private Tensor w, gw, b, gb, x, y, dy, dx, m, v, scores;

    @Setup(Level.Trial)
    public void setUp() {
        be = new CpuBackend(threads, DenseEngine.valueOf(engine.toUpperCase(java.util.Locale.ROOT)));
        Random rng = new Random(1);
        Mask mk = switch (mask) {
            case "dense" -> Mask.dense(width, width);
            case "er-0.01" -> MaskFactory.erdosRenyi(width, width, 0.01, rng);
            case "er-0.1" -> MaskFactory.erdosRenyi(width, width, 0.1, rng);
            case "head" -> Mask.dense(10, width);
            case "encoder" -> Mask.dense(32, 49);
            default -> MaskFactory.g2g(width, width, 8, 1.0, 0.15, Grouping.INDEX, rng);
        };
        out = mk.out;
        in = mk.in;
        cols = mask.equals("encoder") ? 16 * batch : batch;
        plan = be.plan(mk);
        w = be.vector(plan.packedSize());
        gw = be.vector(plan.packedSize());
        m = be.vector(plan.packedSize());
        v = be.vector(plan.packedSize());
        b = be.vector(out);
        gb = be.vector(out);
        x = be.tensor(in, cols);
        y = be.tensor(out, cols);
        dy = be.tensor(out, cols);
        dx = be.tensor(in, cols);
        scores = be.vector(out * in);
        be.pack(plan, uniform(out * in, rng, (float) Math.sqrt(3.0 / in)), w);
        be.write(x, uniform(in * cols, rng, 1f));
        be.write(dy, uniform(out * cols, rng, 1e-2f));
        be.weightGrad(plan, x, dy, gw, gb, cols);
    }

    private static float[] uniform(int n, Random rng, float s) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) a[k] = (2 * rng.nextFloat() - 1) * s;
        return a;
    }

    @Benchmark
    public Tensor forward() {
        be.forward(plan, w, b, x, y, cols, true);
        return y;
    }

    @Benchmark
    public Tensor inputGrad() {
        be.backwardInput(plan, w, dy, dx, cols);
        return dx;
    }

    @Benchmark
    public Tensor weightGrad() {
        be.weightGrad(plan, x, dy, gw, gb, cols);
        return gw;
    }

    /** Adam over the packed layer: the optimizer's share of a step. */
    @Benchmark
    public Tensor adam() {
        be.adam(w, gw, m, v, 1e-6f, 0.9f, 0.999f, 1e-8f, 0f, 10);
        return w;
    }

    /** The Hebbian correlation product (dense whatever the mask; run once per mask for symmetry). */
    @Benchmark
    public Tensor correlation() {
        be.correlation(y, x, cols, Correlation.COSINE, scores);
        return scores;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        plan.close();
        be.close();
    }
}
