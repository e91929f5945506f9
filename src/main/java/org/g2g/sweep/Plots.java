package org.g2g.sweep;

import org.g2g.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sweep's figures, as PNG and SVG (XChart; SVG through VectorGraphics2D): test accuracy
 * against density per method with 95% error bars, and accuracy against forward FLOPs per sample
 * with the frontier of configurations no other beats at fewer FLOPs. Files are replaced
 * atomically, so a reader never sees half a picture.
 */
public final class Plots {
    private Plots() {}

    public static final String DENSITY = "accuracy_vs_density";
    public static final String FLOPS = "accuracy_vs_flops";

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    /** Writes both figures into dir; returns the files written (none when no configuration has finished). */
    public static List<Path> write(Path dir, String title, List<Aggregate.Group> groups) {
        List<Aggregate.Group> ok = new ArrayList<>();
        for (Aggregate.Group g : groups) if (!Double.isNaN(g.test().mean()) && !Double.isNaN(g.density())) ok.add(g);
        List<Path> out = new ArrayList<>();
        if (ok.isEmpty()) return out;
        out.addAll(save(densityChart(title, ok), dir.resolve(DENSITY)));
        out.addAll(save(flopsChart(title, ok), dir.resolve(FLOPS)));
        return out;
    }

    static Map<String, List<Aggregate.Group>> byMethod(List<Aggregate.Group> groups) {
        Map<String, List<Aggregate.Group>> m = new LinkedHashMap<>();
        for (Aggregate.Group g : groups) m.computeIfAbsent(g.method(), k -> new ArrayList<>()).add(g);
        return m;
    }

    static XYChart densityChart(String title, List<Aggregate.Group> groups) {
        XYChart c = new XYChartBuilder().width(900).height(600).title(title + ": test accuracy vs density")
                .xAxisTitle("density (kept fraction of hidden-layer edges)").yAxisTitle("test accuracy (%), mean and 95% CI").build();
        style(c);
        c.getStyler().setXAxisMin(0.0);
        c.getStyler().setXAxisMax(1.0);
        c.getStyler().setXAxisDecimalPattern("0.00");
        double lo = 100, hi = 0;
        for (Map.Entry<String, List<Aggregate.Group>> e : byMethod(groups).entrySet()) {
            List<Aggregate.Group> gs = new ArrayList<>(e.getValue());
            gs.sort(Comparator.comparingDouble(Aggregate.Group::density));
            double[] x = new double[gs.size()], y = new double[gs.size()], err = new double[gs.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = gs.get(i).density();
                y[i] = 100 * gs.get(i).test().mean();
                double ci = gs.get(i).test().ci95();
                err[i] = Double.isNaN(ci) ? 0 : 100 * ci;
                lo = Math.min(lo, y[i] - err[i]);
                hi = Math.max(hi, y[i] + err[i]);
            }
            XYSeries s = c.addSeries(e.getKey(), x, y, err);
            s.setMarker(SeriesMarkers.CIRCLE);
            if (x.length == 1) s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        }
        // accuracy lives in [0, 100]; wide intervals of few seeds are cut there rather than squash the plot
        double pad = Math.max(0.5, 0.05 * (hi - lo));
        c.getStyler().setYAxisMin(Math.max(0, Math.floor(lo - pad)));
        c.getStyler().setYAxisMax(Math.min(100, Math.ceil(hi + pad)));
        return c;
    }

    static XYChart flopsChart(String title, List<Aggregate.Group> groups) {
        XYChart c = new XYChartBuilder().width(900).height(600).title(title + ": accuracy per FLOP")
                .xAxisTitle("forward MFLOPs per sample (log)").yAxisTitle("test accuracy (%), mean").build();
        style(c);
        c.getStyler().setXAxisLogarithmic(true);
        for (Map.Entry<String, List<Aggregate.Group>> e : byMethod(groups).entrySet()) {
            List<Aggregate.Group> gs = e.getValue();
            double[] x = new double[gs.size()], y = new double[gs.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = Math.max(1e-9, gs.get(i).flopsForward() / 1e6);
                y[i] = 100 * gs.get(i).test().mean();
            }
            XYSeries s = c.addSeries(e.getKey(), x, y);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        }
        List<Aggregate.Group> front = frontier(groups);
        double[] fx = new double[front.size()], fy = new double[front.size()];
        for (int i = 0; i < fx.length; i++) {
            fx[i] = Math.max(1e-9, front.get(i).flopsForward() / 1e6);
            fy[i] = 100 * front.get(i).test().mean();
        }
        XYSeries f = c.addSeries("frontier", fx, fy);
        f.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
        f.setMarker(SeriesMarkers.NONE);
        f.setLineColor(java.awt.Color.DARK_GRAY);
        return c;
    }

    /** Configurations that no configuration with at most their FLOPs beats in accuracy, by FLOPs. */
    static List<Aggregate.Group> frontier(List<Aggregate.Group> groups) {
        List<Aggregate.Group> s = new ArrayList<>(groups);
        s.sort(Comparator.comparingDouble(Aggregate.Group::flopsForward)
                .thenComparing(Comparator.comparingDouble((Aggregate.Group g) -> g.test().mean()).reversed()));
        List<Aggregate.Group> f = new ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        for (Aggregate.Group g : s) {
            if (g.test().mean() > best) {
                f.add(g);
                best = g.test().mean();
            }
        }
        return f;
    }

    private static void style(XYChart c) {
        Styler st = c.getStyler();
        st.setLegendPosition(Styler.LegendPosition.OutsideS);
        st.setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setErrorBarsColorSeriesColor(true);
        c.getStyler().setMarkerSize(7);
        c.getStyler().setYAxisDecimalPattern("0.0");
    }

    private static List<Path> save(Chart<?, ?> chart, Path base) {
        Path png = base.resolveSibling(base.getFileName() + ".png"), svg = base.resolveSibling(base.getFileName() + ".svg");
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
        AtomicFiles.write(svg, out -> VectorGraphicsEncoder.saveVectorGraphic(chart, out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG));
        return List.of(png, svg);
    }
}
