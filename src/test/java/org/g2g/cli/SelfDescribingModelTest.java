package org.g2g.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.commons.math3.stat.descriptive.moment.Mean;
import org.apache.commons.math3.stat.descriptive.moment.StandardDeviation;
import org.g2g.data.IdxReader;
import org.g2g.data.Split;
import org.g2g.data.Splits;
import org.g2g.io.SafeTensors;
import org.g2g.testutil.Synthetic;
import org.g2g.train.ModelMetadata;
import org.g2g.train.RunRecorder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * model.safetensors carries what docs/python-example.md relies on to feed the model with no
 * g2g: the test rebuilds the input pipeline and the network from the metadata and tensors
 * alone (naive loops) and must reproduce g2g's accuracy, eval --json and predict.
 */
class SelfDescribingModelTest {
    @TempDir static Path tmp;
    static Path data, run;
    static final int LIMIT = 900, VAL = 200, SEED = 5;

    @BeforeAll
    static void trainOne() throws Exception {
        data = Synthetic.fashionLike(tmp.resolve("data"), 1200, 300, 10, 10, 3);
        run = tmp.resolve("run");
        Out o = main("train", "--encoder", "none", "--data", data.toString(), "--hidden", "32", "--layers", "2", "--groups", "4",
                "--epochs", "3", "--lr", "0.005", "--batch", "64", "--device", "cpu", "--threads", "2", "--seed", "" + SEED,
                "--standardize", "per-feature", "--limit-train", "" + LIMIT, "--val-split", "" + VAL,
                "--out", run.toString());
        assertEquals(0, o.code, o.err + o.out);
    }

    record Out(int code, String out, String err) {}

    static Out main(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        System.setOut(new PrintStream(bo, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(new PrintWriter(err, true), args);
            return new Out(code, bo.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    static float[] floats(Map<String, String> md, String key) throws Exception {
        return RunRecorder.JSON.readValue(md.get(key), float[].class);
    }

    static float[] pixels(Path idx) {
        IdxReader.Images im = IdxReader.readImages(idx);
        float[] x = new float[im.n() * im.features()];
        for (int k = 0; k < x.length; k++) x[k] = (im.bytes()[im.offset() + k] & 0xff) / 255f;
        return x;
    }

    @Test
    void standardisationStatisticsComeFromTheImagesTrainedOn() throws Exception {
        Map<String, String> md = SafeTensors.read(run.resolve("model.safetensors")).metadata;
        assertEquals("per-feature", md.get("standardize"));
        float[] mean = floats(md, "standardize_mean"), std = floats(md, "standardize_std");
        int f = 100;
        assertEquals(f, mean.length);
        float[] all = pixels(data.resolve("train-images-idx3-ubyte.gz"));
        // the trained images: the first LIMIT, less the seeded hold-out
        Split first = new Split(java.util.Arrays.copyOf(all, LIMIT * f), new int[LIMIT], LIMIT, f);
        Split trained = Splits.holdOut(first, VAL, SEED).train();
        assertEquals(LIMIT - VAL, trained.n());
        double maxDiffAll = 0;
        for (int k = 0; k < f; k++) {
            double[] col = new double[trained.n()], colAll = new double[1200];
            for (int s = 0; s < trained.n(); s++) col[s] = trained.x()[s * f + k];
            for (int s = 0; s < 1200; s++) colAll[s] = all[s * f + k];
            double m = new Mean().evaluate(col), sd = new StandardDeviation(false).evaluate(col);
            assertEquals(m, mean[k], 1e-5, "mean of feature " + k);
            assertEquals(sd < 1e-6 ? 1.0 : sd, std[k], 1e-5, "std of feature " + k);
            maxDiffAll = Math.max(maxDiffAll, Math.abs(new Mean().evaluate(colAll) - mean[k]));
        }
        assertTrue(maxDiffAll > 1e-4, "statistics over all 1200 images would be the same: the test could not tell");
    }

    @Test
    void metadataRebuildsTheModelWithoutG2g() throws Exception {
        SafeTensors.Contents st = SafeTensors.read(run.resolve("model.safetensors"));
        Map<String, String> md = st.metadata;
        for (String k : ModelMetadata.KEYS) assertTrue(md.containsKey(k), "metadata key " + k);
        assertEquals(ModelMetadata.sha256(md.get("config")), md.get("config_sha256"));
        int[] widths = RunRecorder.JSON.readValue(md.get("widths"), int[].class);
        int[] shape = RunRecorder.JSON.readValue(md.get("input_shape"), int[].class);
        assertArrayEquals(new int[]{1, 10, 10}, shape);
        assertEquals(shape[0] * shape[1] * shape[2], widths[0]);
        int depth = Integer.parseInt(md.get("depth"));
        assertEquals(widths.length - 1, depth);
        String[] names = RunRecorder.JSON.readValue(md.get("class_names"), String[].class);
        assertEquals(widths[depth], names.length);
        assertEquals("Ankle boot", names[9]); // the synthetic set is read as fashion-mnist
        assertEquals("relu", md.get("activation"));
        assertEquals("logits", md.get("output"));
        for (int l = 0; l < depth; l++) {
            assertArrayEquals(new long[]{widths[l + 1], widths[l]}, st.tensors.get("layers." + l + ".weight").shape());
        }
        assertTrue(st.tensors.containsKey("layers.0.group_out"), md.get("group_labels"));

        // feed the raw test images as the metadata says, and run the layers with naive loops
        float[] x = pixels(data.resolve("t10k-images-idx3-ubyte.gz"));
        int[] y = IdxReader.readLabels(data.resolve("t10k-labels-idx1-ubyte.gz"));
        float div = Float.parseFloat(md.get("input_divisor"));
        assertEquals(255f, div);
        float[] mean = floats(md, "standardize_mean"), std = floats(md, "standardize_std");
        int n = y.length, f = widths[0];
        int[] predicted = new int[n];
        int correct = 0;
        for (int s = 0; s < n; s++) {
            float[] h = new float[f];
            for (int k = 0; k < f; k++) h[k] = (x[s * f + k] - mean[k]) / std[k];
            for (int l = 0; l < depth; l++) {
                float[] w = st.tensors.get("layers." + l + ".weight").floats(), b = st.tensors.get("layers." + l + ".bias").floats();
                float[] o = new float[widths[l + 1]];
                for (int i = 0; i < o.length; i++) {
                    double z = b[i];
                    for (int j = 0; j < h.length; j++) z += (double) w[i * h.length + j] * h[j];
                    o[i] = (float) (l < depth - 1 ? Math.max(0, z) : z);
                }
                h = o;
            }
            int arg = 0;
            for (int i = 1; i < h.length; i++) if (h[i] > h[arg]) arg = i;
            predicted[s] = arg;
            if (arg == y[s]) correct++;
        }
        JsonNode summary = RunRecorder.JSON.readTree(run.resolve("summary.json").toFile());
        double acc = summary.get("test_accuracy").asDouble();
        assertEquals(acc, (double) correct / n, 1.5 / n, "naive forward from the file vs the run's test accuracy");
        assertTrue(acc > 0.5, "the model learned something (else agreement proves little): " + acc);

        // g2g eval --json: the same accuracy, a confusion matrix that adds up, per-class accuracy from it
        Out ev = main("eval", "--run", run.toString(), "--json", "--threads", "2");
        assertEquals(0, ev.code, ev.err);
        JsonNode j = RunRecorder.JSON.readTree(ev.out);
        assertEquals(acc, j.get("accuracy").asDouble(), 1e-5); // summary.json rounds to 6 digits
        JsonNode cm = j.get("confusion_matrix");
        long total = 0, diag = 0;
        for (int t = 0; t < 10; t++) {
            long row = 0;
            for (int p = 0; p < 10; p++) row += cm.get(t).get(p).asLong();
            long naiveRow = 0, naiveHit = 0;
            for (int s = 0; s < n; s++) if (y[s] == t) { naiveRow++; if (predicted[s] == t) naiveHit++; }
            assertEquals(naiveRow, row, "images of class " + t);
            assertEquals((double) naiveHit / naiveRow, j.get("per_class").get(t).get("accuracy").asDouble(), 1.5 / naiveRow);
            total += row;
            diag += cm.get(t).get(t).asLong();
        }
        assertEquals(n, total);
        assertEquals(acc, (double) diag / n, 1.5 / n);

        // g2g predict: one row per image, the naive model's label, a probability in (1/classes, 1]
        Out pr = main("predict", "--run", run.toString(), "--input", data.resolve("t10k-images-idx3-ubyte.gz").toString(),
                "--threads", "2");
        assertEquals(0, pr.code, pr.err);
        String[] lines = pr.out.strip().split("\n");
        assertEquals("index,label,name,probability", lines[0]);
        assertEquals(n + 1, lines.length);
        int agree = 0;
        for (int s = 0; s < n; s++) {
            String[] c = lines[s + 1].split(",");
            assertEquals(s, Integer.parseInt(c[0]));
            if (Integer.parseInt(c[1]) == predicted[s]) agree++;
            assertEquals(names[Integer.parseInt(c[1])], c[2]);
            double p = Double.parseDouble(c[3]);
            assertTrue(p >= 0.1 && p <= 1.0, lines[s + 1]);
        }
        assertTrue(agree >= n - 1, agree + " of " + n + " predictions agree with the naive forward");
    }

    /**
     * g2g export --format onnx, read back with the generated protobuf classes and run by a small
     * interpreter of the ops it uses: the same predictions as the model file run with naive loops.
     */
    @Test
    void onnxExportComputesTheModel() throws Exception {
        Path onnx = tmp.resolve("m.onnx");
        Out o = main("export", "--run", run.toString(), "--format", "onnx", "--out", onnx.toString());
        assertEquals(0, o.code, o.err);
        org.g2g.io.OnnxProto.ModelProto m = org.g2g.io.OnnxProto.ModelProto.parseFrom(java.nio.file.Files.readAllBytes(onnx));
        assertTrue(m.getOpsetImport(0).getVersion() >= 17);
        SafeTensors.Contents st = SafeTensors.read(run.resolve("model.safetensors"));
        Map<String, float[]> values = new java.util.HashMap<>();
        Map<String, long[]> dims = new java.util.HashMap<>();
        for (var t : m.getGraph().getInitializerList()) {
            java.nio.FloatBuffer fb = java.nio.ByteBuffer.wrap(t.getRawData().toByteArray())
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            float[] a = new float[fb.remaining()];
            fb.get(a);
            values.put(t.getName(), a);
            dims.put(t.getName(), t.getDimsList().stream().mapToLong(Long::longValue).toArray());
        }
        float[] w0 = values.get("layers.0.weight");
        byte[] mask0 = st.tensors.get("layers.0.mask").bytesU8();
        assertArrayEquals(st.tensors.get("layers.0.weight").floats(), w0, 0f);
        for (int k = 0; k < w0.length; k++) if (mask0[k] == 0) assertEquals(0f, w0[k], "masked weight " + k);

        float[] x = pixels(data.resolve("t10k-images-idx3-ubyte.gz"));
        int f = 100, n = x.length / f;
        Map<String, float[]> act = new java.util.HashMap<>(values);
        Map<String, Integer> width = new java.util.HashMap<>();
        act.put("pixels", x);
        width.put("pixels", f);
        for (var node : m.getGraph().getNodeList()) {
            float[] a = act.get(node.getInput(0));
            int wa = width.get(node.getInput(0));
            float[] r = new float[0];
            int wr = wa;
            switch (node.getOpType()) {
                case "Sub", "Div" -> {
                    float[] b = act.get(node.getInput(1));
                    r = new float[a.length];
                    for (int k = 0; k < a.length; k++) r[k] = node.getOpType().equals("Sub") ? a[k] - b[k % wa] : a[k] / b[k % wa];
                }
                case "Relu" -> {
                    r = new float[a.length];
                    for (int k = 0; k < a.length; k++) r[k] = Math.max(0, a[k]);
                }
                case "Gemm" -> {
                    float[] w = act.get(node.getInput(1)), b = act.get(node.getInput(2));
                    assertEquals(1, node.getAttribute(0).getI(), "transB");
                    wr = (int) dims.get(node.getInput(1))[0];
                    r = new float[n * wr];
                    for (int s = 0; s < n; s++) {
                        for (int i = 0; i < wr; i++) {
                            double z = b[i];
                            for (int j = 0; j < wa; j++) z += (double) a[s * wa + j] * w[i * wa + j];
                            r[s * wr + i] = (float) z;
                        }
                    }
                }
                case "Softmax" -> r = a; // argmax is unchanged
                default -> fail("unexpected op " + node.getOpType());
            }
            act.put(node.getOutput(0), r);
            width.put(node.getOutput(0), wr);
        }
        float[] logits = act.get("logits");
        int k = width.get("logits");
        assertEquals(10, k);
        Out pr = main("predict", "--run", run.toString(), "--input", data.resolve("t10k-images-idx3-ubyte.gz").toString(),
                "--threads", "2");
        String[] lines = pr.out.strip().split("\n");
        int agree = 0;
        for (int s = 0; s < n; s++) {
            int arg = 0;
            for (int i = 1; i < k; i++) if (logits[s * k + i] > logits[s * k + arg]) arg = i;
            if (Integer.parseInt(lines[s + 1].split(",")[1]) == arg) agree++;
        }
        assertTrue(agree >= n - 1, agree + " of " + n + " ONNX predictions agree with g2g predict");
    }

    @Test
    void predictRefusesAFileOfNeitherFormat() throws Exception {
        Path bad = java.nio.file.Files.write(tmp.resolve("bad.bin"), new byte[]{1, 2, 3, 4, 5});
        Out o = main("predict", "--run", run.toString(), "--input", bad.toString());
        assertEquals(2, o.code);
        assertTrue(o.err.contains("bad.bin") && o.err.contains("idx3-ubyte"), o.err);
    }
}
