package org.g2g.cli;

import org.g2g.UserError;
import org.g2g.train.OnnxExport;
import org.g2g.train.SavedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Export a saved run's model to another format (ONNX, opset 17).")
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "DIR", description = "run directory written by g2g train")
    Path run;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "onnx", description = "onnx (default)")
    String format;

    @Option(names = "--out", paramLabel = "FILE", description = "output file (default: DIR/model.onnx)")
    Path out;

    @Option(names = "--debug", description = "print stack traces of errors")
    boolean debug;

    @Override
    public Integer call() {
        if (!format.equalsIgnoreCase("onnx")) throw new UserError("--format " + format + ": unknown (choose onnx)");
        SavedModel m = SavedModel.load(run);
        Path f = out != null ? out : run.resolve("model.onnx");
        OnnxExport.write(m, f);
        System.out.println("wrote " + f + " (ONNX opset " + OnnxExport.OPSET + ", input 'pixels': batch x " + m.inputs()
                + " floats = pixel / 255; outputs 'logits', 'probabilities')");
        return 0;
    }
}
