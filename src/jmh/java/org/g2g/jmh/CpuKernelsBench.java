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
 * the dense one, on both dense engines. Build and run (about 8 minutes):
 * <pre>
 *   mvn -Pjmh -DskipTests package && java -jar target/benchmarks.jar
 * </pre>
 * JMH options narrow it, e.g. {@code java -jar target/benchmarks.jar forward -p mask=g2g -p engine=openblas -f 1}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
public class CpuKernelsBench {
    /** er-0.01: an Erdos-Renyi layer at 1%, where a call is tens of microseconds and the work pool's hand-off shows. */
    @Param({"g2g", "dense", "er-0.01"})
    public String mask;

    /** The dense engine: OpenBLAS (the default) or our Vector API kernels; G2G and ER residual edges run the same kernels in both. */
    @Param({"openblas", "vector"})
    public String engine;

    @Param({"1024"})
    public int width;

    @Param({"256"})
    public int batch;

    private CpuBackend be;
    private LayerPlan plan;
    private Tensor w, gw, b, gb, x, y, dy, dx, m, v, scores;

    @Setup(Level.Trial)
    public void setUp() {
        be = new CpuBackend(0, DenseEngine.valueOf(engine.toUpperCase(java.util.Locale.ROOT)));
        Random rng = new Random(1);
        Mask mk = mask.equals("dense") ? Mask.dense(width, width)
                : mask.equals("er-0.01") ? MaskFactory.erdosRenyi(width, width, 0.01, rng)
                : MaskFactory.g2g(width, width, 8, 1.0, 0.15, Grouping.INDEX, rng);
        plan = be.plan(mk);
        w = be.vector(plan.packedSize());
        gw = be.vector(plan.packedSize());
        m = be.vector(plan.packedSize());
        v = be.vector(plan.packedSize());
        b = be.vector(width);
        gb = be.vector(width);
        x = be.tensor(width, batch);
        y = be.tensor(width, batch);
        dy = be.tensor(width, batch);
        dx = be.tensor(width, batch);
        scores = be.vector(width * width);
        be.pack(plan, uniform(width * width, rng, (float) Math.sqrt(3.0 / width)), w);
        be.write(x, uniform(width * batch, rng, 1f));
        be.write(dy, uniform(width * batch, rng, 1e-2f));
        be.weightGrad(plan, x, dy, gw, gb, batch);
    }

    private static float[] uniform(int n, Random rng, float s) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) a[k] = (2 * rng.nextFloat() - 1) * s;
        return a;
    }

    @Benchmark
    public Tensor forward() {
        be.forward(plan, w, b, x, y, batch, true);
        return y;
    }

    @Benchmark
    public Tensor inputGrad() {
        be.backwardInput(plan, w, dy, dx, batch);
        return dx;
    }

    @Benchmark
    public Tensor weightGrad() {
        be.weightGrad(plan, x, dy, gw, gb, batch);
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
        be.correlation(y, x, batch, Correlation.COSINE, scores);
        return scores;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        plan.close();
        be.close();
    }
}
