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
        int n = r.rows().size();
        double[] x = new double[n + 1], step = new double[n], limit = new double[n + 1], ideal = new double[n + 1];
        for (int k = 0; k < n; k++) {
            DensityTable.Row w = r.rows().get(k);
            x[k] = w.density();
            step[k] = w.stepMs();
            limit[k] = w.limitMs();
            ideal[k] = w.density() * r.denseStepMs() + r.fixedMs();
        }
        x[n] = 1.0;
        limit[n] = DensityTable.SLACK * (r.denseStepMs() + r.fixedMs());
        ideal[n] = r.denseStepMs() + r.fixedMs();
        XYSeries s = c.addSeries("measured step (ER)", java.util.Arrays.copyOf(x, n), step);
        s.setMarker(SeriesMarkers.CIRCLE);
        c.addSeries("limit: 1.5 x (density x dense step + fixed)", x, limit).setMarker(SeriesMarkers.NONE);
        c.addSeries("density x dense step + fixed", x, ideal).setMarker(SeriesMarkers.NONE);
        c.addSeries("dense step", new double[]{1.0}, new double[]{r.denseStepMs()}).setMarker(SeriesMarkers.DIAMOND);
        Path png = base.resolveSibling(base.getFileName() + ".png"), svg = base.resolveSibling(base.getFileName() + ".svg");
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(c, out, BitmapEncoder.BitmapFormat.PNG));
        AtomicFiles.write(svg, out -> VectorGraphicsEncoder.saveVectorGraphic(c, out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG));
        return List.of(png, svg);
    }
}
