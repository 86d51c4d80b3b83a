package org.rankadaptor.examples.report;

import com.google.common.xml.XmlEscapers;
import java.util.Locale;

/** The SVG elements the charts are made of, and the escaping of text put into them. */
final class Svg {

  /** Line colours, distinguishable in colour-blind palettes (Okabe-Ito). */
  static final String[] SERIES_COLORS = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"};

  /** Reference line colours: greys and a muted purple, so that references never look like data. */
  static final String[] REFERENCE_COLORS = {"#555555", "#999999", "#7f6a93", "#bbbbbb"};

  private Svg() {}

  static void open(StringBuilder svg, int width, int height, String title) {
    svg.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            + "font-family=\"Helvetica, Arial, sans-serif\">%n", width, height, width, height));
    svg.append("<title>").append(escape(title)).append("</title>\n");
    svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
  }

  static void line(StringBuilder svg, double x1, double y1, double x2, double y2, String color, double width,
      boolean dashed) {
    svg.append(String.format(Locale.ROOT,
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"%s/>%n",
        x1, y1, x2, y2, color, width, dashed ? " stroke-dasharray=\"5 4\"" : ""));
  }

  static void text(StringBuilder svg, double x, double y, String text, String anchor, int size, String weight) {
    svg.append(String.format(Locale.ROOT,
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\" font-weight=\"%s\">%s</text>%n",
        x, y, anchor, size, weight, escape(text)));
  }

  /** Text as XML character data or attribute value (characters XML does not allow become U+FFFD). */
  static String escape(String text) {
    return XmlEscapers.xmlAttributeEscaper().escape(text);
  }
}
