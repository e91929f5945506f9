package org.g2g.profile;

import org.g2g.UserError;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * The bench plot: speedup of the sparse layer (forward + both gradients) over the dense kernel
 * against density, log-log, one line per group count, the line speedup = 1 and each group
 * count's break-even density marked (and named in the legend), a whisker at each point for the
 * spread of its timings (where bench.csv has it), and G2GNet's default density. PNG and SVG, headless.
 */
public final class BenchPlot {
    private BenchPlot() {}

    /** One colour per group count, set by hand so each whisker can share its line's colour. */
    private static final Color[] PALETTE = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
            new Color(148, 103, 189), new Color(140, 86, 75), new Color(227, 119, 194), new Color(23, 190, 207)};

    /** Writes base.png and base.svg for one (width, batch, engine); returns the two files. */
    public static List<Path> write(BenchGrid.Result r, int width, int batch, String engine, Path base) {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = chart(r, width, batch, engine);
        try {
            Path dir = base.toAbsolutePath().getParent();
            if (dir != null) Files.createDirectories(dir);
            BitmapEncoder.saveBitmap(chart, base.toString(), BitmapEncoder.BitmapFormat.PNG);
            VectorGraphicsEncoder.saveVectorGraphic(chart, base.toString(), VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        } catch (IOException e) {
            throw new UserError("bench plot " + base + ": cannot write (" + e.getMessage() + ")");
        }
        return List.of(Path.of(base + ".png"), Path.of(base + ".svg"));
    }

    static XYChart chart(BenchGrid.Result r, int width, int batch, String engine) {
        XYChart c = new XYChartBuilder().width(900).height(600)
                .title(String.format(Locale.ROOT, "Sparse layer %dx%d, batch %d, %s: speedup over the dense kernel",
                        width, width, batch, r.device() + (engine.equals("block") ? "" : " " + engine)))
                .xAxisTitle("density (kept fraction of edges)").yAxisTitle("speedup over dense (forward + input-grad + weight-grad)")
                .build();
        var st = c.getStyler();
        st.setXAxisLogarithmic(true);
        st.setYAxisLogarithmic(true);
        st.setXAxisLogarithmicDecadeOnly(true); // intermediate labels of a log axis overlap
        st.setYAxisLogarithmicDecadeOnly(false);
        st.setXAxisDecimalPattern("0.###");
        st.setYAxisDecimalPattern("0.##");
        st.setLegendPosition(Styler.LegendPosition.InsideNE);
        st.setChartBackgroundColor(Color.WHITE);
        TreeMap<Integer, List<BenchGrid.Row>> byGroups = new TreeMap<>();
        double dMin = 1, dMax = 0;
        for (BenchGrid.Row x : r.rows()) {
            if (x.width() != width || x.batch() != batch || !x.engine().equals(engine) || !x.op().equals("layer")) continue;
            byGroups.computeIfAbsent(x.groups(), g -> new ArrayList<>()).add(x);
            dMin = Math.min(dMin, x.actualDensity());
            dMax = Math.max(dMax, x.actualDensity());
        }
        if (byGroups.isEmpty()) throw new IllegalArgumentException("no bench rows for width " + width + " batch " + batch);
        List<Double> beX = new ArrayList<>(), beY = new ArrayList<>();
        int line = 0;
        for (var e : byGroups.entrySet()) {
            List<BenchGrid.Row> rows = new ArrayList<>(e.getValue());
            rows.sort((a, b) -> Double.compare(a.actualDensity(), b.actualDensity()));
            double[] xs = new double[rows.size()], ys = new double[rows.size()];
            for (int k = 0; k < xs.length; k++) { xs[k] = rows.get(k).actualDensity(); ys[k] = rows.get(k).speedup(); }
            BenchGrid.BreakEven be = breakEven(r, width, batch, e.getKey(), engine);
            String label = (e.getKey() == 1 ? "G=1 (unstructured)" : "G=" + e.getKey())
                    + (be == null || be.density() == null ? ", no break-even"
                    : String.format(Locale.ROOT, ", break-even %s%.3f", be.note().startsWith("sparse") ? ">= " : "", be.density()));
            XYSeries s = c.addSeries(label, xs, ys);
            s.setMarker(SeriesMarkers.CIRCLE);
            Color color = PALETTE[line++ % PALETTE.length];
            s.setLineColor(color);
            s.setMarkerColor(color);
            // the spread of each point (interquartile bands of both timings): a whisker in the series' colour
            for (BenchGrid.Row x : rows) {
                if (x.speedupLow() == null || x.speedupHigh() == null) continue;
                XYSeries w = c.addSeries(label + " spread " + x.actualDensity(), new double[]{x.actualDensity(), x.actualDensity()},
                        new double[]{x.speedupLow(), x.speedupHigh()});
                w.setMarker(SeriesMarkers.NONE);
                w.setLineColor(color);
                w.setLineStyle(new BasicStroke(1.2f));
                w.setShowInLegend(false);
            }
            if (be != null && be.density() != null && be.note().equals("interpolated")) {
                beX.add(be.density());
                beY.add(1.0);
            }
        }
        XYSeries one = c.addSeries("speedup 1 (dense)", new double[]{dMin, dMax}, new double[]{1, 1});
        one.setMarker(SeriesMarkers.NONE);
        one.setLineColor(Color.GRAY);
        one.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[]{6, 4}, 0));
        // where the default G2GNet sits (groups 8, p_intra 1, p' 0.15): the density a reader looks up first
        double g2g = org.g2g.model.Architecture.g2gDensity(org.g2g.config.RunConfig.defaults());
        double yLo = Double.POSITIVE_INFINITY, yHi = 0;
        for (XYSeries x : c.getSeriesMap().values()) {
            for (double v : x.getYData()) { yLo = Math.min(yLo, v); yHi = Math.max(yHi, v); }
        }
        XYSeries at = c.addSeries(String.format(Locale.ROOT, "G2GNet default, density %.3f", g2g),
                new double[]{g2g, g2g}, new double[]{yLo, yHi});
        at.setMarker(SeriesMarkers.NONE);
        at.setLineColor(new Color(200, 0, 0));
        at.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[]{2, 3}, 0));
        if (!beX.isEmpty()) {
            XYSeries m = c.addSeries("break-even densities", beX, beY);
            m.setXYSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Scatter);
            m.setMarker(SeriesMarkers.DIAMOND);
            m.setMarkerColor(Color.BLACK);
        }
        return c;
    }

    /**
     * The grid of a bench directory read back from its bench.csv and bench-break-even.csv (as
     * `g2g bench` wrote them), to redraw the plots without measuring again (`g2g bench --replot`).
     */
    public static BenchGrid.Result read(Path dir) {
        List<BenchGrid.Row> rows = new ArrayList<>();
        List<BenchGrid.BreakEven> bes = new ArrayList<>();
        String device = null;
        try {
            List<String> lines = Files.readAllLines(dir.resolve("bench.csv"));
            for (String l : lines.subList(Math.min(1, lines.size()), lines.size())) {
                if (l.isBlank()) continue;
                String[] f = l.split(",", -1);
                rows.add(new BenchGrid.Row(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                        Double.parseDouble(f[3]), Double.parseDouble(f[4]), f[5], f[6], Double.parseDouble(f[7]),
                        f[8].isEmpty() ? Double.NaN : Double.parseDouble(f[8]), f[9].isEmpty() ? null : Double.valueOf(f[9]),
                        Double.parseDouble(f[10]),
                        // files written before the spread columns existed have 12 fields
                        f.length > 13 && !f[12].isEmpty() ? Double.valueOf(f[12]) : null,
                        f.length > 13 && !f[13].isEmpty() ? Double.valueOf(f[13]) : null));
                device = f[11];
            }
            List<String> be = Files.readAllLines(dir.resolve("bench-break-even.csv"));
            for (String l : be.subList(Math.min(1, be.size()), be.size())) {
                if (l.isBlank()) continue;
                String[] f = l.split(",", 7);
                bes.add(new BenchGrid.BreakEven(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]), f[3], f[4],
                        f[5].isEmpty() ? null : Double.valueOf(f[5]), f[6]));
            }
        } catch (IOException | RuntimeException e) {
            throw new UserError("bench directory " + dir + ": cannot read bench.csv / bench-break-even.csv (" + e.getMessage() + ")");
        }
        if (rows.isEmpty()) throw new UserError("bench directory " + dir + ": bench.csv has no rows");
        return new BenchGrid.Result(device, device, null, rows, bes);
    }

    private static BenchGrid.BreakEven breakEven(BenchGrid.Result r, int width, int batch, int groups, String engine) {
        for (BenchGrid.BreakEven b : r.breakEvens()) {
            if (b.width() == width && b.batch() == batch && b.groups() == groups && b.engine().equals(engine)
                    && b.op().equals("layer")) return b;
        }
        return null;
    }
}
