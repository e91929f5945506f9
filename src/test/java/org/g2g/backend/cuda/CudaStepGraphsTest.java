package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.backend.StepRecorder;
import org.g2g.backend.cpu.CpuBackend;
import org.g2g.config.RunConfig;
import org.g2g.data.Split;
import org.g2g.dst.DstStats;
import org.g2g.dst.DynamicSparseTraining;
import org.g2g.model.Architecture;
import org.g2g.train.Layer;
import org.g2g.train.Network;
import org.g2g.train.Optimizer;
import org.g2g.train.PhaseTimer;
import org.g2g.train.ResidentSplit;
import org.g2g.train.Trainer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A training step recorded once as a CUDA graph and replayed (--cuda-graphs on) against the
 * same steps launched kernel by kernel (off), on the emulated device in CI: every weight,
 * optimizer state and the loss sums bit-identical over four epochs of train's own step, with
 * a partial last batch (its own recording), Hebbian observations (fresh window, then EMA steps)
 * and a DST update (the layers re-packed, so the next steps record again). Replays must have
 * happened and have made one launch each. Both are also checked against the CPU backend
 * (tolerance: cuBLAS-free fp32 GEMMs sum in another order than the CPU's tiles).
 */
@Tag("gpu")
class CudaStepGraphsTest {
    static final int EPOCHS = 4, N = 70, BATCH = 16, FEATURES = 36, CLASSES = 5;

    record Result(List<float[]> numbers, double[] stats, long recordings, long replays, List<DstStats> dst) {}

    static Result train(Backend be, RunConfig c, boolean graphs) {
        Random r = new Random(5);
        float[] x = new float[N * FEATURES];
        for (int k = 0; k < x.length; k++) x[k] = r.nextFloat();
        int[] y = new int[N];
        for (int k = 0; k < N; k++) y[k] = r.nextInt(CLASSES);
        Architecture arch = Architecture.build(c, FEATURES, CLASSES, new Random(c.seed()));
        int batches = (N + BATCH - 1) / BATCH;
        List<DstStats> dst = new ArrayList<>();
        try (Network net = new Network(be, arch, Optimizer.from(c), BATCH, new Random(2));
             DynamicSparseTraining d = new DynamicSparseTraining(c, net, (long) EPOCHS * batches);
             ResidentSplit data = new ResidentSplit(be, new Split(x, y, N, FEATURES));
             IntVector order = be.ints(N)) {
            net.recordSteps(graphs);
            StepRecorder rec = net.recorder();
            assertEquals(graphs && !be.onHost(), rec != null, "a recorder exactly when asked for on a device");
            PhaseTimer timer = new PhaseTimer(be, false);
            long step = 0;
            long l0 = be.launches();
            for (int epoch = 0; epoch < EPOCHS; epoch++) {
                be.write(order, Trainer.epochOrder(c.seed(), epoch, N));
                for (int bi = 0; bi < batches; bi++) {
                    int off = bi * BATCH, bs = Math.min(BATCH, N - off);
                    long replays = rec == null ? 0 : rec.replays(), recordings = rec == null ? 0 : rec.recordings();
                    long before = be.launches();
                    dst.addAll(Trainer.trainStep(net, d, timer, data, order, off, bs, 0.005f * (1 + step % 3), ++step));
                    if (rec != null && rec.replays() > replays && rec.recordings() == recordings && step % c.updateEvery() != 0) {
                        assertEquals(1, be.launches() - before, "a replayed step is one launch (step " + step + ")");
                    }
                }
            }
            assertTrue(be.launches() - l0 > 0 || be.onHost(), "launches counted on a device");
            List<float[]> numbers = new ArrayList<>();
            for (Layer L : net.layers) {
                numbers.add(L.denseWeights(be)); // dense: the CPU and CUDA packed layouts differ
                numbers.add(be.read(L.b));
                for (float[] s : L.denseState(be)) numbers.add(s);
                for (var s : L.bState) numbers.add(be.read(s));
            }
            double[] stats = net.takeStats();
            return new Result(numbers, stats, rec == null ? 0 : rec.recordings(), rec == null ? 0 : rec.replays(), dst);
        }
    }

    @ParameterizedTest
    @CsvSource({"adam, custom", "sgd, custom", "adam, cusparse"})
    void graphsOnAndOffGiveTheSameBits(String optimizer, String engine) {
        GpuTests.requireGpu();
        Map<String, Object> ch = new HashMap<>(Map.of("hidden", 32, "layers", 2, "groups", 4, "encoder", "none",
                "update-every", 8, "hebbian-ema", 0.5, "prune-fraction", 0.1, "optimizer", optimizer, "seed", 3L));
        RunConfig c = RunConfig.defaults().with(ch);
        Result off, on, cpu;
        try (Backend be = Cuda.open(0, engine)) {
            off = train(be, c, false);
        }
        try (Backend be = Cuda.open(0, engine)) {
            on = train(be, c, true);
        }
        try (Backend be = new CpuBackend(2)) {
            cpu = train(be, c, true);
        }
        assertFalse(on.dst().isEmpty(), "a DST update happened");
        assertEquals(off.dst(), on.dst(), "same DST updates");
        // a key records on its second step (the first runs, allocating scratch): full batches outside the window,
        // full and partial batches in it, again after each update
        assertTrue(on.recordings() >= 4, "steps were recorded: " + on.recordings());
        assertTrue(on.replays() > on.recordings(), "recorded steps were replayed: " + on.replays());
        assertEquals(off.numbers().size(), on.numbers().size());
        for (int k = 0; k < on.numbers().size(); k++) assertArrayEquals(off.numbers().get(k), on.numbers().get(k), 0f, "tensor " + k);
        assertArrayEquals(off.stats(), on.stats(), 0.0, "loss and correct sums");
        for (int k = 0; k < cpu.numbers().size(); k++) {
            float[] a = cpu.numbers().get(k), b = on.numbers().get(k);
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 2e-3f * (1 + Math.abs(a[i])), "CPU vs CUDA tensor " + k + " [" + i + "]");
            }
        }
        assertEquals(cpu.stats()[0], on.stats()[0], 1e-3 * Math.abs(cpu.stats()[0]), "loss sum vs CPU");
    }
}
