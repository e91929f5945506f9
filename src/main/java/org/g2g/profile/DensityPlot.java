package org.g2g.profile;

import org.g2g.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.nio.file.Path;
import java.util.List;

/** The density table as a plot: measured step time and its limit against density (log-log), PNG and SVG. */
public final class DensityPlot {
    private DensityPlot() {}

    /** Writes base.png and base.svg atomically; returns the two files. */
    public static List<Path> write(DensityTable.Result r, Path base) {
        System.setProperty("java.awt.headless", "true");
        XYChart c = new XYChartBuilder().width(800).height(550)
                .title("Step time against density, ER masks, " + r.widths())
                .xAxisTitle("density (active edges / dense edges)").yAxisTitle("step ms").build();
        Styler st = c.getStyler();
        st.setLegendPosition(Styler.LegendPosition.InsideNW);
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setYAxisLogarithmic(true);
        c.getStyler().setMarkerSize(8);
        // measured points in density order; the limit and its base are straight formulas, drawn on a log grid
        List<DensityTable.Row> rows = r.rows().stream().sorted(java.util.Comparator.comparingDouble(DensityTable.Row::density)).toList();
        int n = rows.size();
        double[] x = new double[n], step = new double[n];
        for (int k = 0; k < n; k++) {
            x[k] = rows.get(k).density();
            step[k] = rows.get(k).stepMs();
        }
        double lo = Math.min(1.0, n > 0 ? x[0] : 0.01);
        int m = 40;
        double[] grid = new double[m + 1], limit = new double[m + 1], ideal = new double[m + 1];
        for (int k = 0; k <= m; k++) {
            grid[k] = lo * Math.pow(1.0 / lo, (double) k / m);
            ideal[k] = grid[k] * r.denseStepMs() + r.fixedMs();
            limit[k] = DensityTable.SLACK * ideal[k];
        }
        XYSeries s = c.addSeries("measured step (ER)", x, step);
        s.setMarker(SeriesMarkers.CIRCLE);
        c.addSeries("limit: 1.5 x (density x dense step + fixed)", grid, limit).setMarker(SeriesMarkers.NONE);
        c.addSeries("density x dense step + fixed", grid, ideal).setMarker(SeriesMarkers.NONE);
        c.addSeries("dense step", new double[]{1.0}, new double[]{r.denseStepMs()}).setMarker(SeriesMarkers.DIAMOND);
        Path png = base.resolveSibling(base.getFileName() + ".png"), svg = base.resolveSibling(base.getFileName() + ".svg");
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(c, out, BitmapEncoder.BitmapFormat.PNG));
        AtomicFiles.write(svg, out -> VectorGraphicsEncoder.saveVectorGraphic(c, out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG));
        return List.of(png, svg);
    }
}
