package org.g2g.profile;

import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The committed bench results read back (g2g bench --replot) and G2GNet's density marked on the plot. */
class BenchReplotTest {
    static final Path BENCH = Path.of("docs/bench");

    @Test
    void theCsvFilesReadBackAndThePlotMarksG2gNetsDensity() throws Exception {
        BenchGrid.Result r = BenchPlot.read(BENCH);
        List<String> csv = Files.readAllLines(BENCH.resolve("bench.csv"));
        assertEquals(csv.size() - 1, r.rows().size());
        // written again, the rows are the same text (every field read back)
        assertEquals(String.join("\n", csv).strip(), BenchGrid.csv(r).strip());
        assertEquals(Files.readAllLines(BENCH.resolve("bench-break-even.csv")).size() - 1, r.breakEvens().size());

        XYChart c = BenchPlot.chart(r, 1024, 256, "block");
        XYSeries g2g = c.getSeriesMap().values().stream().filter(s -> s.getName().startsWith("G2GNet default")).findFirst()
                .orElseThrow(() -> new AssertionError("no G2GNet marker in " + c.getSeriesMap().keySet()));
        double want = 1.0 / 8 + 7.0 / 8 * 0.15; // groups 8, p_intra 1, p' 0.15: the paper's model
        for (double x : g2g.getXData()) assertEquals(want, x, 1e-12);
        assertTrue(g2g.getName().contains("0.256"), g2g.getName());
    }
}
