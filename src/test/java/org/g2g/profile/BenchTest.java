package org.g2g.profile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BenchTest {
    @Test void tinyBenchEndToEnd(@TempDir Path dir) throws Exception {
        Object[] r = ProfilerTest.cli("bench", "--device", "cpu", "--widths", "32,64", "--batches", "16",
                "--densities", "1,0.5,0.1", "--groups", "1,4,3", "--min-time", "0.001", "--tables", "grid", "--out", dir.toString());
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("break-even density"), out);
        assertTrue(out.contains("skipping groups 3"), out); // 3 divides neither width
        List<String> rows = Files.readAllLines(dir.resolve("bench.csv"));
        assertEquals(BenchGrid.CSV_HEADER, rows.get(0));
        // per width: 1 correlation row + 2 group counts x 3 densities x 4 ops
        assertEquals(1 + 2 * (1 + 2 * 3 * 4), rows.size());
        for (String row : rows.subList(1, rows.size())) {
            String[] f = row.split(",", -1);
            assertTrue(Double.parseDouble(f[7]) > 0, row);
            if (!f[5].equals("correlation")) {
                double speedup = Double.parseDouble(f[9]), ms = Double.parseDouble(f[7]), dense = Double.parseDouble(f[8]);
                assertEquals(dense / ms, speedup, 1e-3 * speedup + 1e-4, row);
            }
            // the spread: on layer rows only, and it brackets the median's speedup
            if (f[5].equals("layer")) {
                double lo = Double.parseDouble(f[12]), hi = Double.parseDouble(f[13]), speedup = Double.parseDouble(f[9]);
                assertTrue(lo > 0 && lo <= speedup * (1 + 1e-3) + 1e-4 && speedup <= hi * (1 + 1e-3) + 1e-4, row);
            } else {
                assertEquals("", f[12], row);
                assertEquals("", f[13], row);
            }
        }
        // read back for --replot: the spread survives, and the plot draws one whisker per layer point, out of the legend
        BenchGrid.Result back = BenchPlot.read(dir);
        long layerRows = back.rows().stream().filter(x -> x.op().equals("layer") && x.width() == 32).count();
        assertTrue(back.rows().stream().filter(x -> x.op().equals("layer")).allMatch(x -> x.speedupLow() != null && x.speedupHigh() != null));
        var chart = BenchPlot.chart(back, 32, 16, "block");
        long whiskers = chart.getSeriesMap().values().stream().filter(x -> !x.isShowInLegend()).count();
        assertEquals(layerRows, whiskers);
        List<String> be = Files.readAllLines(dir.resolve("bench-break-even.csv"));
        assertEquals(1 + 2 * 2 * 4, be.size());
        for (int w : new int[]{32, 64}) {
            Path png = dir.resolve("bench-w" + w + "-b16.png"), svg = dir.resolve("bench-w" + w + "-b16.svg");
            byte[] head = Files.readAllBytes(png);
            assertEquals((byte) 0x89, head[0]);
            assertEquals("PNG", new String(head, 1, 3));
            String s = Files.readString(svg);
            assertTrue(s.contains("<svg") && s.contains("<path"), "an SVG drawing"); // text is drawn as outlines
        }
    }

    @Test void layerTableThroughTheCli(@TempDir Path dir) throws Exception {
        Object[] r = ProfilerTest.cli("bench", "--device", "cpu", "--tables", "layer", "--layer-width", "64", "--layer-batches",
                "8,32", "--min-time", "0.001", "--out", dir.toString());
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        assertTrue(((String) r[1]).contains("G2G layer forward + backward against the same layer dense on cpu"), (String) r[1]);
        List<String> rows = Files.readAllLines(dir.resolve("bench-layer.csv"));
        assertEquals(3, rows.size());
        assertTrue(rows.get(1).startsWith("64,8,") && rows.get(2).startsWith("64,32,"), rows.toString());
        Object[] bad = ProfilerTest.cli("bench", "--device", "cpu", "--tables", "layer", "--layer-batches", "0", "--out", dir.toString());
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[2]).contains("option --layer-batches: 0"), (String) bad[2]);
    }

    @Test void benchFilesWithoutTheSpreadColumnsStillReplot(@TempDir Path dir) throws Exception {
        // bench.csv as written before speedup_low / speedup_high existed
        Files.writeString(dir.resolve("bench.csv"), "width,batch,groups,density,actual_density,op,engine,ms,dense_ms,speedup,gflops,device\n"
                + "64,16,4,0.5,0.500000,layer,block,0.2,0.3,1.5000,1.0,cpu\n"
                + "64,16,4,0.25,0.250000,layer,block,0.1,0.3,3.0000,1.0,cpu\n");
        Files.writeString(dir.resolve("bench-break-even.csv"), BenchGrid.BREAK_EVEN_HEADER + "\n");
        BenchGrid.Result r = BenchPlot.read(dir);
        assertEquals(2, r.rows().size());
        assertNull(r.rows().get(0).speedupLow());
        var chart = BenchPlot.chart(r, 64, 16, "block");
        assertEquals(0, chart.getSeriesMap().values().stream().filter(x -> !x.isShowInLegend()).count());
    }

    @Test void precisionIsCheckedAndTf32IsRefusedOnTheCpu(@TempDir Path dir) {
        Object[] bad = ProfilerTest.cli("bench", "--device", "cpu", "--precision", "fp16", "--tables", "layer", "--out", dir.toString());
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[2]).contains("option --precision: 'fp16' is not one of [fp32, tf32]"), (String) bad[2]);
        Object[] cpu = ProfilerTest.cli("bench", "--device", "cpu", "--precision", "tf32", "--tables", "layer", "--out", dir.toString());
        assertEquals(2, cpu[0]);
        assertTrue(((String) cpu[2]).contains("--precision tf32: the CPU backend computes in fp32 only"), (String) cpu[2]);
    }

    @Test void densitiesOutOfRangeAreUserErrors(@TempDir Path dir) {
        Object[] r = ProfilerTest.cli("bench", "--device", "cpu", "--densities", "0,0.5", "--out", dir.toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("option --densities: 0.0 is not in (0, 1]"), (String) r[2]);
    }

    @Test void g2gMasksHitTheirDensity() {
        java.util.Random rng = new java.util.Random(3);
        assertEquals(0.25, LayerBench.g2gMask(64, 64, 4, 0.25, rng).density(), 1e-12); // exactly the diagonal blocks
        assertEquals(0.05, LayerBench.g2gMask(64, 64, 4, 0.05, rng).density(), 0.02); // thinned blocks
        assertEquals(0.5, LayerBench.g2gMask(256, 256, 8, 0.5, rng).density(), 0.02); // blocks + inter-group edges
        assertEquals(1.0, LayerBench.g2gMask(16, 16, 4, 1.0, rng).density());
    }
}
