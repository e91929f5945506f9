package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.backend.StepScalars;
import org.g2g.config.RunConfig;
import org.g2g.data.Split;
import org.g2g.dst.DynamicSparseTraining;
import org.g2g.model.Architecture;
import org.g2g.train.Network;
import org.g2g.train.Optimizer;
import org.g2g.train.PhaseTimer;
import org.g2g.train.ResidentSplit;
import org.g2g.train.Trainer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Host launches of the default model's training step (patch encoder, 784-1024x3-10, Fashion-MNIST's
 * shape; a small batch, which does not change the count) on the emulated device: the optimizer is
 * one launch for every parameter of the model, a replayed step is one launch, and an unrecorded
 * step makes no more than {@link #UNRECORDED_BOUND}: gather, the encoder's patch gather, product
 * and reshape, one launch per layer forward (layer.cu: products, bias and ReLU; the output
 * head's launch computes the loss and its gradient too), one launch per layer backward (weight,
 * bias and input gradients and the ReLU mask), the encoder's reshape and gradient, the
 * optimizer: 15. It was 40 before the layers were fused (34 of our kernels and 5 cuBLAS calls,
 * then the multi-tensor optimizer), 16 before the loss rode on the head's forward launch.
 */
@Tag("gpu")
class CudaLaunchCountTest {
    static final int UNRECORDED_BOUND = 15, BATCH = 24, N = 60;

    @Test
    void defaultStepLaunches() {
        GpuTests.requireGpu();
        RunConfig c = RunConfig.defaults().with(Map.of("batch", BATCH));
        Random r = new Random(1);
        float[] x = new float[N * 784];
        for (int k = 0; k < x.length; k++) x[k] = r.nextFloat();
        int[] y = new int[N];
        for (int k = 0; k < N; k++) y[k] = r.nextInt(10);
        try (Backend be = Cuda.open(0, "custom")) {
            Architecture arch = Architecture.build(c, 784, 10, new Random(c.seed()));
            try (Network net = new Network(be, arch, Optimizer.from(c), BATCH, new Random(2));
                 DynamicSparseTraining dst = new DynamicSparseTraining(c, net, 1000);
                 ResidentSplit data = new ResidentSplit(be, new Split(x, y, N, 784));
                 IntVector order = be.ints(N)) {
                be.write(order, Trainer.epochOrder(1, 0, N));
                PhaseTimer timer = new PhaseTimer(be, false);
                Trainer.trainStep(net, dst, timer, data, order, 0, BATCH, 1e-3f, 1); // allocates what it needs
                long l0 = be.launches();
                Trainer.trainStep(net, dst, timer, data, order, BATCH, BATCH, 1e-3f, 2);
                long unrecorded = be.launches() - l0;
                System.out.println("[g2g] default model, unrecorded training step: " + unrecorded + " host launches");
                assertTrue(unrecorded <= UNRECORDED_BOUND, unrecorded + " launches per unrecorded step");
                assertTrue(unrecorded >= 4 * 3, "at least forward, gradients and loss per layer were counted: " + unrecorded);

                StepScalars s = net.optimizer.scalars(1e-3f, 3, 0);
                be.beginStep(s);
                long o0 = be.launches();
                net.optimizerStep(s);
                assertEquals(1, be.launches() - o0, "one optimizer launch for " + 2 * (net.layers.length + 1) + " parameter tensors");

                net.recordSteps(true);
                for (int t = 3; t <= 4; t++) Trainer.trainStep(net, dst, timer, data, order, 0, BATCH, 1e-3f, t);
                long r0 = be.launches();
                Trainer.trainStep(net, dst, timer, data, order, BATCH, BATCH, 1e-3f, 5);
                assertEquals(1, be.launches() - r0, "a replayed step is one launch");
                assertEquals(1, net.recorder().recordings());
            }
        }
    }
}
