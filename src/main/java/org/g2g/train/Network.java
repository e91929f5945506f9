package org.g2g.train;

import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.backend.StepRecorder;
import org.g2g.backend.StepScalars;
import org.g2g.backend.Tensor;
import org.g2g.dst.RewirableNetwork;
import org.g2g.model.Architecture;
import org.g2g.model.Init;
import org.g2g.model.Mask;
import org.g2g.model.PatchEncoder;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A model resident on a backend plus the activation buffers of one batch: act[0] is the
 * input of the first sparse layer (features x batch), act[l + 1] the output of layer l;
 * grad[l + 1] is dL/dz of layer l (after the ReLU mask). With a patch encoder, the data
 * goes into the encoder's input and act[0] is the encoder's output ({@link #input()} is
 * where a batch goes either way). The trainer drives it; it never looks at the device.
 */
public final class Network implements RewirableNetwork, AutoCloseable {
    public final Backend be;
    public final int[] widths;
    public final Layer[] layers;
    public final int batchCapacity;
    public final Tensor[] act;
    public final Tensor[] grad;
    public final IntVector labels;
    /** [0] summed loss, [1] correct predictions, accumulated until read. */
    public final Tensor stats;
    public final Optimizer optimizer;
    /** The patch encoder, or null when the network reads flattened pixels. */
    public final Encoder encoder;
    private StepRecorder recorder;

    public Network(Backend be, Architecture arch, Optimizer opt, int batchCapacity, Random rng) {
        this(be, arch.widths(), arch.masks(), arch, opt, batchCapacity, initWeights(arch, rng),
                initEncoder(arch.encoder(), rng));
    }

    /** Weights given as dense arrays per layer: [l][0] = W (out x in), [l][1] = bias. */
    public Network(Backend be, int[] widths, List<Mask> masks, Architecture arch, Optimizer opt, int batchCapacity,
                   float[][][] weights) {
        this(be, widths, masks, arch, opt, batchCapacity, weights, null);
    }

    /**
     * As above, with the encoder's {W (out x patch inputs), bias} when arch has an encoder
     * (drawn from a seeded generator when null).
     */
    public Network(Backend be, int[] widths, List<Mask> masks, Architecture arch, Optimizer opt, int batchCapacity,
                   float[][][] weights, float[][] encoderWeights) {
        this.be = be;
        this.widths = widths;
        this.optimizer = opt;
        this.batchCapacity = batchCapacity;
        int depth = masks.size();
        layers = new Layer[depth];
        for (int l = 0; l < depth; l++) {
            layers[l] = new Layer(be, masks.get(l), l < depth - 1, arch.isSparse(l), opt.slots(),
                    weights[l][0], weights[l][1]);
        }
        act = new Tensor[depth + 1];
        grad = new Tensor[depth + 1];
        for (int l = 0; l <= depth; l++) {
            act[l] = be.tensor(widths[l], batchCapacity);
            if (l > 0) grad[l] = be.tensor(widths[l], batchCapacity);
        }
        labels = be.ints(batchCapacity);
        stats = be.vector(2);
        PatchEncoder pe = arch.encoder();
        if (pe != null) {
            float[][] ew = encoderWeights != null ? encoderWeights : initEncoder(pe, new Random(0x5eedL));
            encoder = new Encoder(be, pe, opt.slots(), batchCapacity, ew[0], ew[1]);
            grad[0] = be.tensor(widths[0], batchCapacity);
        } else {
            encoder = null;
        }
    }

    /** Kaiming-uniform encoder weights (ReLU gain) and PyTorch-style biases; null without an encoder. */
    public static float[][] initEncoder(PatchEncoder pe, Random rng) {
        if (pe == null) return null;
        Mask m = pe.mask();
        return new float[][]{Init.weights(m, true, rng), Init.biases(m, rng)};
    }

    /** Where a batch of data goes: the encoder's pixel input, or act[0]. */
    public Tensor input() { return encoder != null ? encoder.input : act[0]; }

    public static float[][][] initWeights(Architecture arch, Random rng) {
        int depth = arch.depth();
        float[][][] w = new float[depth][][];
        for (int l = 0; l < depth; l++) {
            Mask m = arch.masks().get(l);
            boolean relu = l < depth - 1;
            w[l] = new float[][]{Init.weights(m, relu, rng), Init.biases(m, rng)};
        }
        return w;
    }

    @Override public int depth() { return layers.length; }
    @Override public Backend backend() { return be; }
    @Override public Layer layer(int l) { return layers[l]; }
    @Override public Tensor activation(int l) { return act[l]; }
    @Override public Tensor gradient(int l) { return grad[l]; }

    public Tensor logits() { return act[layers.length]; }

    public void forward(int batch) {
        forwardUpTo(layers.length, batch);
    }

    /** The encoder and layers [0, end): act[end] holds their output. */
    private void forwardUpTo(int end, int batch) {
        if (encoder != null) encoder.forward(be, act[0], batch);
        for (int l = 0; l < end; l++) {
            Layer L = layers[l];
            be.forward(L.plan, L.w, L.b, act[l], act[l + 1], batch, L.relu);
        }
    }

    /** Loss on the current batch (adds to stats); writes dL/dlogits into grad[depth] when training. */
    public void loss(int batch, boolean training) {
        be.softmaxCrossEntropy(logits(), labels, training ? grad[layers.length] : null, stats, batch);
    }

    /**
     * {@link #forward} then {@link #loss}. The output layer and the loss are one call, which a
     * device fuses into one launch, except under the profiler's phase timer, which times the
     * forward pass and the loss apart (each then queued on its own, as before).
     */
    public void forwardLoss(int batch, boolean training, PhaseTimer timer) {
        if (timer.waitsForDevice()) {
            forward(batch);
            timer.begin(Phase.LOSS);
            loss(batch, training);
            return;
        }
        int last = layers.length - 1;
        forwardUpTo(last, batch);
        Layer L = layers[last];
        be.forwardLoss(L.plan, L.w, L.b, act[last], act[last + 1], labels, training ? grad[last + 1] : null, stats, batch);
    }

    /**
     * Back-propagates from grad[depth]; the input gradient of the first layer is skipped when
     * its input is data, and feeds the encoder's weight gradient when there is one.
     */
    public void backward(int batch, PhaseTimer timer) {
        for (int l = layers.length - 1; l >= 0; l--) {
            Layer L = layers[l];
            // act[l] below the first layer is a ReLU output: the hidden layers' and the encoder's
            Tensor dx = l > 0 || encoder != null ? grad[l] : null;
            if (!timer.waitsForDevice()) {  // one call: a device fuses the layer's backward launches
                timer.begin(Phase.WEIGHT_GRAD);
                be.layerBackward(L.plan, L.w, act[l], grad[l + 1], L.gw, L.gb, dx, true, batch);
                continue;
            }
            // the profiler's phase split: each product timed on its own
            timer.begin(Phase.WEIGHT_GRAD);
            be.weightGrad(L.plan, act[l], grad[l + 1], L.gw, L.gb, batch);
            if (dx != null) {
                timer.begin(Phase.INPUT_GRAD);
                be.backwardInput(L.plan, L.w, grad[l + 1], dx, batch);
                be.reluBackward(act[l], dx, batch);
            }
        }
        if (encoder != null) {
            timer.begin(Phase.WEIGHT_GRAD);
            encoder.backward(be, grad[0], batch);
        }
    }

    /** An optimizer step outside a training step (tests): its scalars go to the backend first. */
    public void optimizerStep(float lr, long t) {
        StepScalars s = optimizer.scalars(lr, t, 0);
        be.beginStep(s);
        optimizerStep(s);
    }

    /** The optimizer on every parameter at once (one launch on a device), with s given to beginStep. */
    public void optimizerStep(StepScalars s) {
        List<Tensor> w = new ArrayList<>(), g = new ArrayList<>();
        List<Tensor[]> st = new ArrayList<>();
        for (Layer L : layers) add(L, w, g, st);
        if (encoder != null) add(encoder.layer, w, g, st);
        optimizer.step(be, w, g, st, s);
    }

    private static void add(Layer L, List<Tensor> w, List<Tensor> g, List<Tensor[]> st) {
        w.add(L.w);
        g.add(L.gw);
        st.add(L.wState);
        w.add(L.b);
        g.add(L.gb);
        st.add(L.bState);
    }

    /** Records the training step once and replays it (CUDA graphs) when on and the backend can; else every step runs. */
    public void recordSteps(boolean on) { recorder = on ? be.stepRecorder() : null; }

    /** The step recorder in use, or null. */
    public StepRecorder recorder() { return recorder; }

    /** Reads and clears the accumulated [loss sum, correct count]. */
    public double[] takeStats() {
        float[] s = be.read(stats);
        be.zero(stats);
        return new double[]{s[0], s[1]};
    }

    public long activeEdges() {
        long e = 0;
        for (Layer L : layers) e += L.mask.activeCount();
        return e;
    }

    @Override
    public void close() {
        for (Layer L : layers) L.close();
        if (encoder != null) encoder.close();
        for (Tensor t : act) t.close();
        for (Tensor t : grad) if (t != null) t.close();
        labels.close();
        stats.close();
    }
}
