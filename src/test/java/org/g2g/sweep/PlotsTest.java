package org.g2g.sweep;

import org.junit.jupiter.api.Test;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The sweep figures, on the committed Table 1 sweeps (docs/sweep-paper-table1*): redrawn from
 * results.csv alone, methods at one density told apart, FLOP ticks labelled, titles distinct.
 */
class PlotsTest {
    static final Path TABLE1 = Path.of("docs/sweep-paper-table1"), TEN = Path.of("docs/sweep-paper-table1-10ep");

    static List<Aggregate.Group> groups(Path dir) {
        Grid g = SweepState.read(dir);
        return Aggregate.groups(g, ResultsTable.read(g, dir.resolve("results.csv")));
    }

    @Test
    void resultsCsvAloneGivesTheSameGroupsAsTheRuns() throws Exception {
        // summary.csv was computed from the run directories when the sweep ran: the rows read back must agree
        List<String> lines = Files.readAllLines(TABLE1.resolve("summary.csv"));
        List<String> head = ResultsTable.fields(lines.get(0));
        Map<String, Aggregate.Group> byConfig = new HashMap<>();
        for (Aggregate.Group x : groups(TABLE1)) byConfig.put(x.config(), x);
        assertEquals(lines.size() - 1, byConfig.size());
        for (String l : lines.subList(1, lines.size())) {
            List<String> f = ResultsTable.fields(l);
            Aggregate.Group x = byConfig.get(f.get(0));
            assertNotNull(x, f.get(0));
            assertEquals(Double.parseDouble(f.get(head.indexOf("test_accuracy_mean"))), x.test().mean(), 1e-6, f.get(0));
            assertEquals(Double.parseDouble(f.get(head.indexOf("test_accuracy_ci95"))), x.test().ci95(), 1e-6, f.get(0));
            assertEquals(Double.parseDouble(f.get(head.indexOf("density"))), x.density(), 1e-6, f.get(0));
            assertEquals(Double.parseDouble(f.get(head.indexOf("flops_forward"))), x.flopsForward(), 1, f.get(0));
        }
    }

    @Test
    void methodsAtOneDensityAreDrawnApartWithTheirOwnMarkers() {
        XYChart c = Plots.densityChart("t", groups(TABLE1));
        Map<Long, List<Double>> xsAt = new HashMap<>();
        Set<String> markers = new HashSet<>();
        for (XYSeries s : c.getSeriesMap().values()) {
            markers.add(s.getMarker().getClass().getName());
            for (double x : s.getXData()) xsAt.computeIfAbsent(Math.round(x * 20), k -> new ArrayList<>()).add(x);
        }
        assertEquals(c.getSeriesMap().size(), markers.size(), "a marker per method");
        // G2GNet index and mixer and ER share density 0.256; the two dense models 1.0
        for (List<Double> xs : xsAt.values()) {
            assertEquals(xs.size(), new HashSet<>(xs).size(), "points on top of each other: " + xs);
            xs.sort(Double::compare);
            for (int i = 1; i < xs.size(); i++) assertEquals(Plots.DODGE, xs.get(i) - xs.get(i - 1), 2e-4, xs.toString());
        }
        assertEquals(3, xsAt.get(Math.round(0.2563 * 20)).size());
        // centred on the true density: the mean x of the three is the groups' density
        double mean = xsAt.get(Math.round(0.2563 * 20)).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertEquals(0.2563, mean, 1e-3);
    }

    /** Dark pixels in the band just below the plot area, where the x tick labels are drawn. */
    static int darkBelowPlot(XYChart c) {
        BufferedImage img = BitmapEncoder.getBufferedImage(c);
        // down the middle: the chart's background (its corner's colour), the white plot area, then background again
        int bg = img.getRGB(2, 2), cx = img.getWidth() / 2 + 3, y = 0;
        while (y < img.getHeight() && (img.getRGB(cx, y) & 0xffffff) != 0xffffff) y++;
        while (y < img.getHeight() && img.getRGB(cx, y) != bg) y++;
        int bottom = y;
        assertTrue(bottom < img.getHeight() - 20, "no plot area found");
        int dark = 0;
        for (y = bottom + 1; y < Math.min(img.getHeight(), bottom + 16); y++) {
            for (int px = 0; px < img.getWidth(); px++) {
                int rgb = img.getRGB(px, y);
                int lum = ((rgb >> 16) & 255) + ((rgb >> 8) & 255) + (rgb & 255);
                if (lum < 3 * 90) dark++;
            }
        }
        return dark;
    }

    @Test
    void theFlopAxisIsLabelledWhenTheSweepSpansLessThanADecade() {
        List<Aggregate.Group> gs = groups(TABLE1); // 1.4 to 5.8 MFLOPs
        int labelled = darkBelowPlot(Plots.flopsChart("t", gs));
        // the control: XChart's own log axis over the same range (as the plot was drawn before)
        XYChart before = new org.knowm.xchart.XYChartBuilder().width(900).height(600).title("t").xAxisTitle("x").build();
        before.getStyler().setXAxisLogarithmic(true);
        before.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
        double[] x = gs.stream().mapToDouble(g -> g.flopsForward() / 1e6).toArray();
        double[] y = gs.stream().mapToDouble(g -> 100 * g.test().mean()).toArray();
        before.addSeries("s", x, y).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        int unlabelled = darkBelowPlot(before);
        assertTrue(unlabelled < 40, "the control should show no tick labels: " + unlabelled + " dark pixels");
        assertTrue(labelled > 10 * Math.max(unlabelled, 20), "tick labels: " + labelled + " dark pixels, control " + unlabelled);
        // and the labels say MFLOPs: log10 positions formatted back
        assertEquals("1.5", Plots.mflopsLabel(Math.log10(1.5)));
        assertEquals("12", Plots.mflopsLabel(Math.log10(12)));
        assertEquals("0.25", Plots.mflopsLabel(Math.log10(0.25)));
        assertEquals("560", Plots.mflopsLabel(Math.log10(563)));
    }

    @Test
    void aRerunWithOtherOptionsHasItsOwnTitle() {
        String full = Plots.title(SweepState.read(TABLE1)), ten = Plots.title(SweepState.read(TEN));
        assertEquals("paper-table1", full);
        assertEquals("paper-table1 (epochs 10)", ten);
        Grid g = Grid.expand(SweepSpec.parse("name: n\ngrid: {seed: [1]}\n", "n.yaml"),
                Map.of("data", "/somewhere", "threads", "4", "lr", "0.01"));
        assertEquals("n (lr 0.01)", Plots.title(g), "where the data is and how many threads do not change the result");
    }
}
