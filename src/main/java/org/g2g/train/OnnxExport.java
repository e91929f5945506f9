package org.g2g.train;

import com.google.protobuf.ByteString;
import org.g2g.Version;
import org.g2g.data.Standardise;
import org.g2g.io.AtomicFiles;
import org.g2g.io.OnnxProto.AttributeProto;
import org.g2g.io.OnnxProto.GraphProto;
import org.g2g.io.OnnxProto.ModelProto;
import org.g2g.io.OnnxProto.NodeProto;
import org.g2g.io.OnnxProto.OperatorSetIdProto;
import org.g2g.io.OnnxProto.StringStringEntryProto;
import org.g2g.io.OnnxProto.TensorProto;
import org.g2g.io.OnnxProto.TensorShapeProto;
import org.g2g.io.OnnxProto.TypeProto;
import org.g2g.io.OnnxProto.ValueInfoProto;
import org.g2g.model.PatchEncoder;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;

/**
 * A saved model as an ONNX graph (opset 17): input "pixels" (batch x C*H*W, pixel / 255 as
 * float32) -> the stored standardisation (Sub, Div) -> the patch encoder when present (Reshape,
 * Conv with kernel = stride = patch, Relu, Transpose to patch-major, Reshape) -> per layer
 * Gemm(h, W, b, transB = 1) with the masked weights as dense initialisers, Relu on hidden
 * layers -> outputs "logits" and "probabilities" (Softmax). Written with protobuf-java from
 * src/main/proto/onnx_subset.proto, whose field numbers are onnx.proto's.
 */
public final class OnnxExport {
    private OnnxExport() {}

    public static final int OPSET = 17;
    /** IR version 8 is the one released with opset 17 (ONNX 1.12); every runtime since reads it. */
    public static final int IR_VERSION = 8;

    public static ModelProto build(SavedModel m) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("g2g");
        int pixels = m.inputs();
        g.addInput(value("pixels", pixels));
        String h = "pixels";
        Standardise.Stats st = m.standardisation;
        if (st != null && st.kind() != Standardise.NONE) {
            g.addInitializer(floats("standardize_mean", st.mean(), pixels));
            g.addInitializer(floats("standardize_std", st.std(), pixels));
            g.addNode(node("Sub", new String[]{h, "standardize_mean"}, "standardized_centered"));
            g.addNode(node("Div", new String[]{"standardized_centered", "standardize_std"}, "standardized"));
            h = "standardized";
        }
        if (m.encoder != null) {
            PatchEncoder pe = m.encoder;
            g.addInitializer(ints("image_shape", -1, pe.channels(), pe.height(), pe.width()));
            g.addNode(node("Reshape", new String[]{h, "image_shape"}, "image"));
            g.addInitializer(floats("encoder.weight", m.encoderWeights[0], pe.outChannels(), pe.channels(),
                    pe.patchHeight(), pe.patchWidth()));
            g.addInitializer(floats("encoder.bias", m.encoderWeights[1], pe.outChannels()));
            long[] patch = {pe.patchHeight(), pe.patchWidth()};
            g.addNode(node("Conv", new String[]{"image", "encoder.weight", "encoder.bias"}, "encoder.conv")
                    .addAttribute(intsAttr("kernel_shape", patch)).addAttribute(intsAttr("strides", patch)));
            g.addNode(node("Relu", new String[]{"encoder.conv"}, "encoder.relu"));
            // (batch, channels, rows, cols) -> (batch, rows, cols, channels): patch by patch, channels within
            g.addNode(node("Transpose", new String[]{"encoder.relu"}, "encoder.patch_major")
                    .addAttribute(intsAttr("perm", new long[]{0, 2, 3, 1})));
            g.addInitializer(ints("features_shape", -1, pe.features()));
            g.addNode(node("Reshape", new String[]{"encoder.patch_major", "features_shape"}, "encoder.out"));
            h = "encoder.out";
        }
        int depth = m.masks.size();
        for (int l = 0; l < depth; l++) {
            String p = "layers." + l;
            g.addInitializer(floats(p + ".weight", m.weights[l][0], m.widths[l + 1], m.widths[l]));
            g.addInitializer(floats(p + ".bias", m.weights[l][1], m.widths[l + 1]));
            String out = l == depth - 1 ? "logits" : p + ".linear";
            g.addNode(node("Gemm", new String[]{h, p + ".weight", p + ".bias"}, out)
                    .addAttribute(AttributeProto.newBuilder().setName("transB").setType(AttributeProto.AttributeType.INT).setI(1)));
            if (l < depth - 1) {
                g.addNode(node("Relu", new String[]{out}, p + ".relu"));
                h = p + ".relu";
            }
        }
        g.addNode(node("Softmax", new String[]{"logits"}, "probabilities")
                .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(1)));
        g.addOutput(value("logits", m.classes()));
        g.addOutput(value("probabilities", m.classes()));
        ModelProto.Builder mp = ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("g2g")
                .setProducerVersion(Version.version()).setGraph(g)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET));
        for (String k : new String[]{"dataset", "class_names", "input_shape", "input_divisor", "config_sha256", "model"}) {
            String v = m.metadata.get(k);
            if (v != null) mp.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v));
        }
        mp.setDocString("input 'pixels': batch x " + pixels + " floats, pixel / 255, flattened as input_shape (C, H, W); "
                + "standardisation is inside the graph");
        return mp.build();
    }

    public static void write(SavedModel m, Path file) {
        byte[] bytes = build(m).toByteArray();
        AtomicFiles.write(file, out -> out.write(bytes));
    }

    private static NodeProto.Builder node(String op, String[] inputs, String output) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(output);
        for (String i : inputs) n.addInput(i);
        return n.addOutput(output);
    }

    private static AttributeProto intsAttr(String name, long[] v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }

    private static TensorProto floats(String name, float[] data, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    private static TensorProto ints(String name, long... values) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(values.length);
        for (long v : values) t.addInt64Data(v);
        return t.build();
    }

    /** A float tensor of shape (batch, width), batch symbolic. */
    private static ValueInfoProto value(String name, int width) {
        TensorShapeProto shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(width)).build();
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }

    /** The tensors of a model by name, for tests. */
    static Map<String, TensorProto> initializers(ModelProto m) {
        Map<String, TensorProto> out = new java.util.LinkedHashMap<>();
        for (TensorProto t : m.getGraph().getInitializerList()) out.put(t.getName(), t);
        return out;
    }
}
