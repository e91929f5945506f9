package org.g2g.cli;

import jdk.incubator.vector.FloatVector;
import org.g2g.device.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List the CPU and the GPUs g2g can use, and whether cuBLAS and cuSPARSE loaded.")
final class DevicesCommand implements Callable<Integer> {
    @Option(names = "--debug", description = "print stack traces of errors")
    boolean debug;

    @Override
    public Integer call() {
        System.out.printf("cpu: %s, %d cores, %d-bit vectors (Java %s)%n", cpuModel(),
                Runtime.getRuntime().availableProcessors(), FloatVector.SPECIES_PREFERRED.vectorBitSize(),
                System.getProperty("java.version"));
        for (String line : Backends.cudaReport()) System.out.println(line);
        return 0;
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (Exception ignored) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }
}
