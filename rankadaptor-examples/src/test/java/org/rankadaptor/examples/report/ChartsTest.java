package org.rankadaptor.examples.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The SVG charts are well-formed documents that draw exactly the data given, inside their frame. */
class ChartsTest {

  private static Document parse(String svg) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
  }

  private static List<Element> elements(Document doc, String tag) {
    NodeList nodes = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", tag);
    List<Element> out = new ArrayList<>();
    for (int i = 0; i < nodes.getLength(); i++) {
      out.add((Element) nodes.item(i));
    }
    return out;
  }

  @Test
  void aLineChartDrawsEveryFinitePointOfEverySeriesAndEscapesText() throws Exception {
    String svg = LineChart.builder("Score <& \"ppl\">", "evaluations", "−log ppl")
        .series("RankAdaptor", new double[] {0, 1, 2, 3}, new double[] {-2.6, -2.55, Double.NaN, -2.5})
        .seriesWithErrors("predicted", new double[] {0, 1}, new double[] {-2.7, -2.52}, new double[] {0.1, Double.NaN})
        .reference("uniform rank 8", -2.54)
        .integerX()
        .build().toSvg();
    Document doc = parse(svg);
    assertThat(elements(doc, "title").get(0).getTextContent()).isEqualTo("Score <& \"ppl\">");
    List<Element> lines = elements(doc, "polyline");
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0).getAttribute("data-name")).isEqualTo("RankAdaptor");
    assertThat(lines.get(0).getAttribute("points").split(" ")).hasSize(3); // the NaN point is left out
    assertThat(lines.get(1).getAttribute("points").split(" ")).hasSize(2);
    assertThat(elements(doc, "circle")).hasSize(5);
    assertThat(svg).contains("uniform rank 8");
  }

  @Property(tries = 200)
  void everyPointLiesInsideTheDrawingAndTicksCoverTheData(
      @ForAll @DoubleRange(min = -1e6, max = 1e6) double a,
      @ForAll @DoubleRange(min = -1e6, max = 1e6) double b,
      @ForAll @DoubleRange(min = 0, max = 1e3) double spread) throws Exception {
    double[] y = {a, b, a + spread, b - spread};
    String svg = LineChart.builder("t", "x", "y").series("s", new double[] {1, 2, 3, 4}, y).build().toSvg();
    Document doc = parse(svg);
    Element root = doc.getDocumentElement();
    double width = Double.parseDouble(root.getAttribute("width"));
    double height = Double.parseDouble(root.getAttribute("height"));
    for (String point : elements(doc, "polyline").get(0).getAttribute("points").split(" ")) {
      String[] xy = point.split(",");
      assertThat(Double.parseDouble(xy[0])).isBetween(0.0, width);
      assertThat(Double.parseDouble(xy[1])).isBetween(0.0, height);
    }
    Ticks ticks = Ticks.of(Math.min(Math.min(a, b), b - spread), Math.max(Math.max(a, b), a + spread), false);
    assertThat(ticks.min()).isLessThanOrEqualTo(Math.min(a, b - spread));
    assertThat(ticks.max()).isGreaterThanOrEqualTo(Math.max(b, a + spread));
    assertThat(ticks.values().size()).isBetween(2, 12);
  }

  @Test
  void integerTicksAreWholeNumbers() {
    Ticks ticks = Ticks.of(0, 3, true);
    assertThat(ticks.values()).allSatisfy(v -> assertThat(v).isEqualTo(Math.rint(v)));
    assertThat(ticks.format(2.0)).isEqualTo("2");
  }

  @Test
  void aHeatMapHasOneCellPerValueWithItsNumberAndMarksEmptyCells() throws Exception {
    String svg = HeatMap.of("Ranks", "layer", List.of("width 20 %", "depth 1"), List.of("0", "1", "2"),
        new Double[][] {{8.0, 2.0, 12.0}, {8.0, null, 10.0}}, "removed").toSvg();
    Document doc = parse(svg);
    List<Element> cells = new ArrayList<>(elements(doc, "rect"));
    cells.removeIf(e -> !"cell".equals(e.getAttribute("class")));
    assertThat(cells).hasSize(6);
    List<String> texts = elements(doc, "text").stream().filter(e -> "value".equals(e.getAttribute("class")))
        .map(Element::getTextContent).toList();
    assertThat(texts).containsExactly("8", "2", "12", "8", "removed", "10");
    // The largest value is drawn darkest, the smallest lightest.
    assertThat(cells.get(2).getAttribute("fill")).isEqualTo("#084081");
    assertThat(cells.get(1).getAttribute("fill")).isEqualTo("#fff7bc");
  }

  @Test
  void mismatchedDataIsRejectedWithItsCounts() {
    assertThatThrownBy(() -> LineChart.builder("t", "x", "y").series("s", new double[] {1, 2}, new double[] {1}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 x values for 1 y values");
    assertThatThrownBy(() -> HeatMap.of("t", "c", List.of("a"), List.of("0", "1"), new Double[][] {{1.0}}, "-"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row a has 1 values for 2 columns");
  }
}
