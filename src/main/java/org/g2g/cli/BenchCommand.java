package org.g2g.cli;

import org.g2g.UserError;
import org.g2g.backend.Backend;
import org.g2g.device.Backends;
import org.g2g.config.Choice;
import org.g2g.config.DeviceSpec;
import org.g2g.config.Precision;
import org.g2g.io.AtomicFiles;
import org.g2g.profile.BenchGrid;
import org.g2g.profile.BenchPlot;
import org.g2g.profile.DensityPlot;
import org.g2g.profile.DensityTable;
import org.g2g.profile.GemmTable;
import org.g2g.profile.SparseLayerTable;
import org.g2g.backend.cpu.BlasReference;
import org.g2g.config.RunConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Layer microbenchmarks: the sparse kernel against the dense one over shapes and densities.",
        description = {"Layer microbenchmarks. grid: the block-masked sparse kernel against the dense kernel "
                + "(and cuSPARSE where loaded) over widths, batches, densities and group counts; forward, input "
                + "gradient and weight gradient separately, and the correlation product (bench.csv, "
                + "bench-break-even.csv, a speedup plot per shape in PNG and SVG). gemm: every dense shape of the "
                + "default step against OpenBLAS. density: the Erdos-Renyi step against the active-edge limit, "
                + "plotted. layer: the default sparse layer's training pass against the same layer dense.",
                "",
                "Example: g2g bench --widths 1024 --batches 256 --out docs/bench"})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--device", paramLabel = "DEV", description = "auto, cpu, cuda or cuda:N (default: ${DEFAULT-VALUE})")
    String device = "auto";

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads, 0 = all cores (default: ${DEFAULT-VALUE})")
    int threads = 0;

    @Option(names = "--precision", paramLabel = "P", description = "fp32, or tf32 (CUDA only: the group blocks on tensor "
            + "cores, the dense yardstick in cuBLAS's TF32 math; refused on the CPU) (default: ${DEFAULT-VALUE})")
    String precision = "fp32";

    @Option(names = "--widths", split = ",", paramLabel = "N,...", description = "layer widths (default: 256,1024,4096)")
    List<Integer> widths;

    @Option(names = "--batches", split = ",", paramLabel = "N,...", description = "batch sizes (default: 256)")
    List<Integer> batches;

    @Option(names = "--densities", split = ",", paramLabel = "X,...", description = "densities (default: 1,0.9,0.75,0.5,0.25,0.1,0.05,0.01)")
    List<Double> densities;

    @Option(names = "--groups", split = ",", paramLabel = "G,...", description = "group counts; 1 = unstructured (default: 1,4,8,16)")
    List<Integer> groups;

    @Option(names = "--tables", split = ",", paramLabel = "T,...",
            description = "what to measure: grid (the layer grid above), gemm (every dense GEMM shape of the default step "
                    + "against OpenBLAS, CPU only), density (the default model's step with ER masks against the "
                    + "active-edge limit), layer (the default G2G layer forward + backward against the same layer dense, "
                    + "batches --layer-batches; on CUDA the GPU targets 1.5x at 256 and 2x at 4096) (default: grid,gemm,density,layer)")
    List<String> tables;

    @Option(names = "--er-densities", split = ",", paramLabel = "X,...",
            description = "ER densities of the density table (default: 0.1,0.05,0.02,0.01)")
    List<Double> erDensities;

    @Option(names = "--layer-batches", split = ",", paramLabel = "N,...",
            description = "batches of the layer table (default: 256,4096)")
    List<Integer> layerBatches;

    @Option(names = "--layer-width", paramLabel = "N",
            description = "width of the layer table's G2G layer (default: ${DEFAULT-VALUE}, the default model's)")
    int layerWidth = 1024;

    @Option(names = "--min-time", paramLabel = "SECONDS", description = "time per operation and point (default: ${DEFAULT-VALUE})")
    double minTime = 0.2;

    @Option(names = "--seed", paramLabel = "N", description = "seed of the masks and values (default: ${DEFAULT-VALUE})")
    long seed = 1;

    @Option(names = "--out", paramLabel = "DIR", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out = Path.of("bench");

    @Option(names = "--replot", paramLabel = "DIR", description = "measure nothing: redraw the speedup plots of DIR "
            + "from its bench.csv and bench-break-even.csv")
    Path replot;

    @Option(names = "--debug", description = "print stack traces of errors")
    boolean debug;

    @Override
    public Integer call() {
        if (replot != null) {
            BenchGrid.Result r = BenchPlot.read(replot);
            java.util.Set<String> shapes = new java.util.TreeSet<>();
            for (BenchGrid.Row x : r.rows()) {
                if (!x.op().equals("layer")) continue;
                String name = "bench-w" + x.width() + "-b" + x.batch() + (x.engine().equals("block") ? "" : "-" + x.engine());
                if (shapes.add(name)) {
                    for (Path p : BenchPlot.write(r, x.width(), x.batch(), x.engine(), replot.resolve(name))) System.out.println("saved: " + p);
                }
            }
            return 0;
        }
        BenchGrid.Spec d = BenchGrid.Spec.defaults();
        BenchGrid.Spec s = new BenchGrid.Spec(orElse(widths, d.widths()), orElse(batches, d.batches()),
                orElse(densities, d.densities()), orElse(groups, d.groups()), minTime, seed);
        if (!(minTime > 0)) throw new UserError("option --min-time: must be positive, got " + minTime);
        List<String> what = orElse(tables, List.of("grid", "gemm", "density", "layer"));
        for (String t : what) {
            if (!List.of("grid", "gemm", "density", "layer").contains(t)) {
                throw new UserError("option --tables: '" + t + "' is not one of grid, gemm, density, layer");
            }
        }
        List<Double> ers = orElse(erDensities, DensityTable.DEFAULT_DENSITIES);
        for (double e : ers) if (!(e > 0 && e <= 1)) throw new UserError("option --er-densities: " + e + " is not in (0, 1]");
        for (int b : orElse(layerBatches, SparseLayerTable.DEFAULT_BATCHES)) {
            if (b < 1) throw new UserError("option --layer-batches: " + b + " is not a batch size");
        }
        if (layerWidth < 8 || layerWidth % 8 != 0) {
            throw new UserError("option --layer-width: " + layerWidth + " is not a positive multiple of 8 (the layer has 8 groups)");
        }
        Precision prec;
        try {
            prec = Choice.parse(Precision.class, precision);
        } catch (IllegalArgumentException e) {
            throw new UserError("option --precision: " + e.getMessage());
        }
        DeviceSpec dev = DeviceSpec.parse(device);
        org.g2g.train.RunRecorder.ensureWritable(out);
        Map<String, Backend> engines = new LinkedHashMap<>();
        try {
            Backend main = Backends.open(dev, threads, "custom", prec, System.out);
            engines.put("block", main);
            System.out.println("device: " + main.name() + " (" + main.description() + ")");
            Backend cusparse = Backends.cusparseTwin(main, threads, System.out);
            if (cusparse != null) engines.put("cusparse", cusparse);
            if (what.contains("grid")) {
                BenchGrid.Result r = BenchGrid.run(engines, s, System.out);
                AtomicFiles.writeString(out.resolve("bench.csv"), BenchGrid.csv(r));
                AtomicFiles.writeString(out.resolve("bench-break-even.csv"), BenchGrid.breakEvenCsv(r));
                System.out.println();
                System.out.print(BenchGrid.summary(r));
                System.out.println("saved: " + out.resolve("bench.csv") + ", " + out.resolve("bench-break-even.csv"));
                for (String engine : engines.keySet()) {
                    for (int w : s.widths()) {
                        for (int b : s.batches()) {
                            String name = "bench-w" + w + "-b" + b + (engine.equals("block") ? "" : "-" + engine);
                            for (Path p : BenchPlot.write(r, w, b, engine, out.resolve(name))) {
                                if (Files.isRegularFile(p)) System.out.println("saved: " + p);
                            }
                        }
                    }
                }
            }
            RunConfig base = RunConfig.defaults();
            if (what.contains("gemm")) {
                if (!main.onHost() || !BlasReference.available()) {
                    System.out.println("gemm table skipped: " + (main.onHost() ? BlasReference.status() : "OpenBLAS is the CPU's yardstick"));
                } else {
                    try (Backend one = Backends.open(dev, 1, "custom", System.out)) {
                        List<GemmTable.Row> g = GemmTable.run(main, threads > 0 ? threads : Runtime.getRuntime().availableProcessors(), one, base, minTime);
                        System.out.println();
                        System.out.print(GemmTable.text(g));
                        AtomicFiles.writeString(out.resolve("bench-gemm.csv"), GemmTable.csv(g));
                        System.out.println("saved: " + out.resolve("bench-gemm.csv"));
                    }
                }
            }
            if (what.contains("density")) {
                System.out.println();
                DensityTable.Result dt = DensityTable.run(main, base, ers, DensityTable.options(10, 40, 2), System.out);
                System.out.print(DensityTable.text(dt));
                AtomicFiles.writeString(out.resolve("bench-density.csv"), DensityTable.csv(dt));
                System.out.println("saved: " + out.resolve("bench-density.csv"));
                for (Path p : DensityPlot.write(dt, out.resolve("bench-density"))) System.out.println("saved: " + p);
            }
            if (what.contains("layer")) {
                List<Integer> lb = orElse(layerBatches, SparseLayerTable.DEFAULT_BATCHES);
                System.out.println();
                List<SparseLayerTable.Row> rows = SparseLayerTable.run(main, layerWidth, lb, minTime, seed);
                System.out.print(SparseLayerTable.text(rows, main));
                AtomicFiles.writeString(out.resolve("bench-layer.csv"), SparseLayerTable.csv(rows, main));
                System.out.println("saved: " + out.resolve("bench-layer.csv"));
            }
            return 0;
        } finally {
            for (Backend be : engines.values()) be.close();
        }
    }

    private static <T> List<T> orElse(List<T> v, List<T> d) { return v == null || v.isEmpty() ? d : v; }
}
