package org.rankadaptor.examples.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A grid of labelled cells coloured by value, as a self-contained SVG document: rows and columns with
 * their labels, each cell's value written in it, empty cells (no value) hatched grey with a note. Used
 * for the ranks chosen per layer.
 */
public final class HeatMap {

  private static final int CELL_W = 56;
  private static final int CELL_H = 30;
  private static final int LEFT = 150;
  private static final int TOP = 64;

  private final String title;
  private final String columnTitle;
  private final List<String> rows;
  private final List<String> columns;
  private final Double[][] values; // [row][column], null: no value
  private final String emptyLabel;

  private HeatMap(String title, String columnTitle, List<String> rows, List<String> columns, Double[][] values,
      String emptyLabel) {
    this.title = title;
    this.columnTitle = columnTitle;
    this.rows = rows;
    this.columns = columns;
    this.values = values;
    this.emptyLabel = emptyLabel;
  }

  /**
   * A heat map.
   *
   * @param values {@code [row][column]}; {@code null} for a cell without a value
   * @param emptyLabel written in cells without a value (e.g. "removed")
   * @throws IllegalArgumentException when the values do not match the labels' counts
   */
  public static HeatMap of(String title, String columnTitle, List<String> rows, List<String> columns,
      Double[][] values, String emptyLabel) {
    Objects.requireNonNull(title, "title");
    if (values.length != rows.size()) {
      throw new IllegalArgumentException(values.length + " rows of values for " + rows.size() + " row labels");
    }
    Double[][] copy = new Double[values.length][];
    for (int r = 0; r < values.length; r++) {
      if (values[r].length != columns.size()) {
        throw new IllegalArgumentException("row " + rows.get(r) + " has " + values[r].length + " values for "
            + columns.size() + " columns");
      }
      copy[r] = values[r].clone();
    }
    return new HeatMap(title, Objects.requireNonNull(columnTitle, "columnTitle"), List.copyOf(rows),
        List.copyOf(columns), copy, Objects.requireNonNull(emptyLabel, "emptyLabel"));
  }

  /** The heat map as an SVG document. */
  public String toSvg() {
    int width = LEFT + CELL_W * columns.size() + 20;
    int height = TOP + CELL_H * rows.size() + 20;
    List<Double> present = new ArrayList<>();
    for (Double[] row : values) {
      Arrays.stream(row).filter(Objects::nonNull).forEach(present::add);
    }
    double lo = present.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    double hi = present.stream().mapToDouble(Double::doubleValue).max().orElse(1);
    StringBuilder svg = new StringBuilder();
    Svg.open(svg, width, height, title);
    Svg.text(svg, width / 2.0, 20, title, "middle", 14, "bold");
    Svg.text(svg, LEFT + CELL_W * columns.size() / 2.0, 42, columnTitle, "middle", 12, "normal");
    for (int c = 0; c < columns.size(); c++) {
      Svg.text(svg, LEFT + CELL_W * (c + 0.5), TOP - 6, columns.get(c), "middle", 11, "normal");
    }
    for (int r = 0; r < rows.size(); r++) {
      double y = TOP + CELL_H * r;
      Svg.text(svg, LEFT - 8, y + CELL_H / 2.0 + 4, rows.get(r), "end", 11, "normal");
      for (int c = 0; c < columns.size(); c++) {
        double x = LEFT + CELL_W * c;
        Double v = values[r][c];
        String fill = v == null ? "#eeeeee" : color(hi > lo ? (v - lo) / (hi - lo) : 0.5);
        svg.append(String.format(Locale.ROOT,
            "<rect class=\"cell\" x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"white\"/>%n",
            x, y, CELL_W, CELL_H, fill));
        String label = v == null ? emptyLabel : format(v);
        boolean dark = v != null && hi > lo && (v - lo) / (hi - lo) > 0.55;
        svg.append(String.format(Locale.ROOT,
            "<text class=\"value\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%d\" fill=\"%s\">%s</text>%n",
            x + CELL_W / 2.0, y + CELL_H / 2.0 + 4, v == null ? 9 : 12, dark ? "white" : "#222222",
            Svg.escape(label)));
      }
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  /** Whole numbers without decimals, others with two. */
  private static String format(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.2f", v);
  }

  /** From light yellow (t = 0) to dark blue (t = 1), linear in RGB. */
  private static String color(double t) {
    int[] from = {255, 247, 188};
    int[] to = {8, 64, 129};
    int[] rgb = new int[3];
    for (int i = 0; i < 3; i++) {
      rgb[i] = (int) Math.round(from[i] + (to[i] - from[i]) * t);
    }
    return String.format(Locale.ROOT, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  }
}
