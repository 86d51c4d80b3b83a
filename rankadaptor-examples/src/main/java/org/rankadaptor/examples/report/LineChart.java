package org.rankadaptor.examples.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A line chart as a self-contained SVG document: numeric x and y axes with rounded ticks, one polyline
 * per series (with point markers and optional vertical error bars), horizontal reference lines and a
 * legend. Written directly as SVG text so that figures need neither AWT nor fonts on the machine that
 * makes them, and render the same in any browser or Markdown viewer.
 */
public final class LineChart {

  private static final int WIDTH = 560;
  private static final int HEIGHT = 340;
  private static final int LEFT = 64;
  private static final int RIGHT = 180;
  private static final int TOP = 36;
  private static final int BOTTOM = 48;

  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series;
  private final List<Reference> references;
  private final boolean integerX;

  /** One line: points in order, optional symmetric error bars. */
  private record Series(String name, double[] x, double[] y, double[] error, boolean dashed) {}

  /** A horizontal line across the plot at {@code y}. */
  private record Reference(String name, double y) {}

  private LineChart(Builder b) {
    this.title = b.title;
    this.xLabel = b.xLabel;
    this.yLabel = b.yLabel;
    this.series = List.copyOf(b.series);
    this.references = List.copyOf(b.references);
    this.integerX = b.integerX;
  }

  /** Starts a chart with its title and axis labels. */
  public static Builder builder(String title, String xLabel, String yLabel) {
    return new Builder(title, xLabel, yLabel);
  }

  /** The chart as an SVG document. Points whose x or y is not finite are left out of their line. */
  public String toSvg() {
    double[] xr = range(true);
    double[] yr = range(false);
    Ticks xt = Ticks.of(xr[0], xr[1], integerX);
    Ticks yt = Ticks.of(yr[0], yr[1], false);
    Plot plot = new Plot(xt.min(), xt.max(), yt.min(), yt.max());
    StringBuilder svg = new StringBuilder();
    Svg.open(svg, WIDTH, HEIGHT, title);
    Svg.text(svg, WIDTH / 2.0, 20, title, "middle", 14, "bold");
    // Axes, grid and ticks.
    for (double v : yt.values()) {
      double y = plot.y(v);
      Svg.line(svg, LEFT, y, LEFT + plot.width(), y, "#e5e5e5", 1, false);
      Svg.text(svg, LEFT - 6, y + 4, yt.format(v), "end", 11, "normal");
    }
    for (double v : xt.values()) {
      double x = plot.x(v);
      Svg.line(svg, x, TOP + plot.height(), x, TOP + plot.height() + 4, "#333333", 1, false);
      Svg.text(svg, x, TOP + plot.height() + 17, xt.format(v), "middle", 11, "normal");
    }
    Svg.line(svg, LEFT, TOP, LEFT, TOP + plot.height(), "#333333", 1, false);
    Svg.line(svg, LEFT, TOP + plot.height(), LEFT + plot.width(), TOP + plot.height(), "#333333", 1, false);
    Svg.text(svg, LEFT + plot.width() / 2, HEIGHT - 10, xLabel, "middle", 12, "normal");
    svg.append(String.format(Locale.ROOT,
        "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 14 %.1f)\">%s</text>%n",
        TOP + plot.height() / 2, TOP + plot.height() / 2, Svg.escape(yLabel)));

    int legendRow = 0;
    for (int i = 0; i < references.size(); i++) {
      Reference r = references.get(i);
      String color = Svg.REFERENCE_COLORS[i % Svg.REFERENCE_COLORS.length];
      double y = plot.y(r.y());
      Svg.line(svg, LEFT, y, LEFT + plot.width(), y, color, 1.5, true);
      legend(svg, legendRow++, r.name(), color, true);
    }
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      String color = Svg.SERIES_COLORS[i % Svg.SERIES_COLORS.length];
      StringBuilder points = new StringBuilder();
      for (int p = 0; p < s.x().length; p++) {
        if (Double.isFinite(s.x()[p]) && Double.isFinite(s.y()[p])) {
          points.append(String.format(Locale.ROOT, "%.1f,%.1f ", plot.x(s.x()[p]), plot.y(s.y()[p])));
        }
      }
      svg.append(String.format(Locale.ROOT,
          "<polyline class=\"series\" data-name=\"%s\" points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>%n",
          Svg.escape(s.name()), points.toString().trim(), color, s.dashed() ? " stroke-dasharray=\"6 4\"" : ""));
      for (int p = 0; p < s.x().length; p++) {
        if (!Double.isFinite(s.x()[p]) || !Double.isFinite(s.y()[p])) {
          continue;
        }
        double cx = plot.x(s.x()[p]);
        double cy = plot.y(s.y()[p]);
        if (s.error() != null && Double.isFinite(s.error()[p])) {
          Svg.line(svg, cx, plot.y(s.y()[p] - s.error()[p]), cx, plot.y(s.y()[p] + s.error()[p]), color, 1, false);
        }
        svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>%n", cx, cy, color));
      }
      legend(svg, legendRow++, s.name(), color, s.dashed());
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  private void legend(StringBuilder svg, int row, String name, String color, boolean dashed) {
    double x = WIDTH - RIGHT + 14;
    double y = TOP + 10 + row * 18;
    Svg.line(svg, x, y, x + 22, y, color, 2, dashed);
    Svg.text(svg, x + 28, y + 4, name, "start", 11, "normal");
  }

  /** Data range on one axis over all finite points (and error bars and reference lines on y). */
  private double[] range(boolean xAxis) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int p = 0; p < s.x().length; p++) {
        if (!Double.isFinite(s.x()[p]) || !Double.isFinite(s.y()[p])) {
          continue;
        }
        double v = xAxis ? s.x()[p] : s.y()[p];
        double e = !xAxis && s.error() != null && Double.isFinite(s.error()[p]) ? Math.abs(s.error()[p]) : 0;
        lo = Math.min(lo, v - e);
        hi = Math.max(hi, v + e);
      }
    }
    if (!xAxis) {
      for (Reference r : references) {
        lo = Math.min(lo, r.y());
        hi = Math.max(hi, r.y());
      }
    }
    if (!Double.isFinite(lo)) {
      return new double[] {0, 1};
    }
    return new double[] {lo, hi};
  }

  private static final class Plot {
    private final double x0;
    private final double x1;
    private final double y0;
    private final double y1;

    Plot(double x0, double x1, double y0, double y1) {
      this.x0 = x0;
      this.x1 = x1;
      this.y0 = y0;
      this.y1 = y1;
    }

    double width() {
      return WIDTH - LEFT - RIGHT;
    }

    double height() {
      return HEIGHT - TOP - BOTTOM;
    }

    double x(double v) {
      return LEFT + (v - x0) / (x1 - x0) * width();
    }

    double y(double v) {
      return TOP + height() - (v - y0) / (y1 - y0) * height();
    }
  }

  /** Series, reference lines and axis settings of a {@link LineChart}. */
  public static final class Builder {
    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();
    private final List<Reference> references = new ArrayList<>();
    private boolean integerX;

    private Builder(String title, String xLabel, String yLabel) {
      this.title = Objects.requireNonNull(title, "title");
      this.xLabel = Objects.requireNonNull(xLabel, "xLabel");
      this.yLabel = Objects.requireNonNull(yLabel, "yLabel");
    }

    /**
     * Adds a solid line.
     *
     * @throws IllegalArgumentException when x and y differ in length
     */
    public Builder series(String name, double[] x, double[] y) {
      return add(name, x, y, null, false);
    }

    /** Adds a dashed line. */
    public Builder dashedSeries(String name, double[] x, double[] y) {
      return add(name, x, y, null, true);
    }

    /** Adds a solid line with a vertical bar of {@code ±error[i]} at each point ({@code NaN}: none). */
    public Builder seriesWithErrors(String name, double[] x, double[] y, double[] error) {
      if (error.length != y.length) {
        throw new IllegalArgumentException(name + ": " + error.length + " error values for " + y.length + " points");
      }
      return add(name, x, y, error.clone(), false);
    }

    /** Adds a dashed horizontal line at {@code y}, named in the legend. */
    public Builder reference(String name, double y) {
      if (Double.isFinite(y)) {
        references.add(new Reference(Objects.requireNonNull(name, "name"), y));
      }
      return this;
    }

    /** Ticks on the x axis only at whole numbers (counts such as evaluations). */
    public Builder integerX() {
      this.integerX = true;
      return this;
    }

    private Builder add(String name, double[] x, double[] y, double[] error, boolean dashed) {
      Objects.requireNonNull(name, "name");
      if (x.length != y.length) {
        throw new IllegalArgumentException(name + ": " + x.length + " x values for " + y.length + " y values");
      }
      series.add(new Series(name, x.clone(), y.clone(), error, dashed));
      return this;
    }

    public LineChart build() {
      return new LineChart(this);
    }
  }
}
