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

    /** Methods drawn at one density sit this far apart on the density axis, centred on it. */
    static final double DODGE = 0.012;

    /** Markers by method, so methods stay apart in print and for readers who do not see colour. */
    private static final org.knowm.xchart.style.markers.Marker[] MARKERS = {SeriesMarkers.CIRCLE, SeriesMarkers.DIAMOND,
            SeriesMarkers.SQUARE, SeriesMarkers.TRIANGLE_UP, SeriesMarkers.TRIANGLE_DOWN, SeriesMarkers.CROSS,
            SeriesMarkers.OVAL, SeriesMarkers.RECTANGLE, SeriesMarkers.PLUS};

    /**
     * Where each method's points are drawn: at their density, shifted by DODGE steps when other
     * methods have a point at the same density (to 3 decimals), in method order, so error bars do
     * not hide each other. Keyed by method, then by the group's index in that method's list.
     */
    static Map<String, double[]> dodged(Map<String, List<Aggregate.Group>> byMethod) {
        Map<Long, List<String>> at = new java.util.TreeMap<>();
        for (Map.Entry<String, List<Aggregate.Group>> e : byMethod.entrySet()) {
            for (Aggregate.Group g : e.getValue()) {
                List<String> l = at.computeIfAbsent(Math.round(g.density() * 1000), k -> new ArrayList<>());
                if (!l.contains(e.getKey())) l.add(e.getKey());
            }
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<Aggregate.Group>> e : byMethod.entrySet()) {
            double[] x = new double[e.getValue().size()];
            for (int i = 0; i < x.length; i++) {
                double d = e.getValue().get(i).density();
                List<String> here = at.get(Math.round(d * 1000));
                x[i] = d + (here.indexOf(e.getKey()) - (here.size() - 1) / 2.0) * DODGE;
            }
            out.put(e.getKey(), x);
        }
        return out;
    }

    static XYChart densityChart(String title, List<Aggregate.Group> groups) {
        XYChart c = new XYChartBuilder().width(900).height(600).title(title + ": test accuracy vs density")
                .xAxisTitle("density (kept fraction of hidden-layer edges; methods at one density drawn side by side)")
                .yAxisTitle("test accuracy (%), mean and 95% CI").build();
        style(c);
        c.getStyler().setXAxisMin(-0.03);
        c.getStyler().setXAxisMax(1.03);
        c.getStyler().setXAxisDecimalPattern("0.00");
        double lo = 100, hi = 0;
        Map<String, List<Aggregate.Group>> methods = new LinkedHashMap<>();
        for (Map.Entry<String, List<Aggregate.Group>> e : byMethod(groups).entrySet()) {
            List<Aggregate.Group> gs = new ArrayList<>(e.getValue());
            gs.sort(Comparator.comparingDouble(Aggregate.Group::density));
            methods.put(e.getKey(), gs);
        }
        Map<String, double[]> xs = dodged(methods);
        int m = 0;
        for (Map.Entry<String, List<Aggregate.Group>> e : methods.entrySet()) {
            List<Aggregate.Group> gs = e.getValue();
            double[] x = xs.get(e.getKey()), y = new double[gs.size()], err = new double[gs.size()];
            for (int i = 0; i < x.length; i++) {
                y[i] = 100 * gs.get(i).test().mean();
                double ci = gs.get(i).test().ci95();
                err[i] = Double.isNaN(ci) ? 0 : 100 * ci;
                lo = Math.min(lo, y[i] - err[i]);
                hi = Math.max(hi, y[i] + err[i]);
            }
            XYSeries s = c.addSeries(e.getKey(), x, y, err);
            s.setMarker(MARKERS[m++ % MARKERS.length]);
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
                .xAxisTitle("forward MFLOPs per sample (log scale)").yAxisTitle("test accuracy (%), mean").build();
        style(c);
        // XChart's log axis labels decades only: a sweep within one decade (1.4 to 5.8 MFLOPs) got
        // no x labels at all. So x is log10(MFLOPs) on a linear axis whose labels say the MFLOPs.
        c.setCustomXAxisTickLabelsFormatter(Plots::mflopsLabel);
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        int m = 0;
        for (Map.Entry<String, List<Aggregate.Group>> e : byMethod(groups).entrySet()) {
            List<Aggregate.Group> gs = e.getValue();
            double[] x = new double[gs.size()], y = new double[gs.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = logMflops(gs.get(i));
                y[i] = 100 * gs.get(i).test().mean();
                lo = Math.min(lo, x[i]);
                hi = Math.max(hi, x[i]);
            }
            XYSeries s = c.addSeries(e.getKey(), x, y);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            s.setMarker(MARKERS[m++ % MARKERS.length]);
        }
        double pad = Math.max(0.05, 0.06 * (hi - lo));
        c.getStyler().setXAxisMin(lo - pad);
        c.getStyler().setXAxisMax(hi + pad);
        List<Aggregate.Group> front = frontier(groups);
        double[] fx = new double[front.size()], fy = new double[front.size()];
        for (int i = 0; i < fx.length; i++) {
            fx[i] = logMflops(front.get(i));
            fy[i] = 100 * front.get(i).test().mean();
        }
        XYSeries f = c.addSeries("frontier", fx, fy);
        f.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
        f.setMarker(SeriesMarkers.NONE);
        f.setLineColor(java.awt.Color.DARK_GRAY);
        return c;
    }

    static double logMflops(Aggregate.Group g) { return Math.log10(Math.max(1e-9, g.flopsForward() / 1e6)); }

    /** A tick of the log10(MFLOPs) axis as MFLOPs, to 2 significant digits (0.25, 1.4, 12, 560). */
    static String mflopsLabel(double log10) {
        double v = Math.pow(10, log10);
        return new java.math.BigDecimal(v).round(new java.math.MathContext(2)).stripTrailingZeros().toPlainString();
    }

    /**
     * A figure's title: the sweep's name, and the options its command line set for every run
     * (a 10-epoch rerun of a spec is told apart from the spec's own sweep); where the data and
     * which device or threads are left out, as they do not change what is plotted.
     */
    public static String title(Grid g) {
        List<String> set = new ArrayList<>();
        for (Map.Entry<String, Object> e : new java.util.TreeMap<>(g.cli).entrySet()) {
            if (List.of("data", "device", "threads", "sparse-engine", "cuda-graphs", "log-every", "tensorboard").contains(e.getKey())) continue;
            set.add(e.getKey() + " " + e.getValue());
        }
        return g.spec.name() + (set.isEmpty() ? "" : " (" + String.join(", ", set) + ")");
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
