package org.rankadaptor.dl4j;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import org.rankadaptor.Confirmation;
import org.rankadaptor.Finalist;
import org.rankadaptor.IterationRecord;
import org.rankadaptor.SearchResult;

/**
 * The JSON form of a core {@link SearchResult} in {@code result.json}: the choice, why the search
 * stopped, the noise, the confirmation stage and every fine-tune. One form for RankAdaptor's search,
 * the paper's protocol and random search.
 */
final class SearchResultJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SearchResultJson() {}

  /** Writes the result's fields into {@code node}. */
  static void write(SearchResult search, ObjectNode node) {
    node.put("best", search.best().format());
    node.put("bestScore", search.bestScore());
    node.set("bestMetrics", JSON.valueToTree(search.bestObservation().metrics()));
    node.put("stopReason", search.stopReason().name());
    node.put("stopExplanation", search.stopExplanation());
    node.put("failedFineTunes", search.failures());
    search.noiseStd().ifPresent(n -> node.put("noiseStd", n));
    search.confirmation().ifPresent(c -> node.set("confirmation", confirmationJson(c)));
    node.put("evaluations", search.trace().size());
    node.put("newEvaluations", search.newEvaluations());
    node.set("trace", traceJson(search));
  }

  /** A number, or JSON null when it is not finite (a failed or unpredicted value). */
  static void putNumber(ObjectNode node, String name, double value) {
    if (Double.isFinite(value)) {
      node.put(name, value);
    } else {
      node.putNull(name);
    }
  }


  private static ObjectNode confirmationJson(Confirmation c) {
    ObjectNode node = JSON.createObjectNode();
    node.put("recommended", c.recommended().format());
    node.put("reason", c.reason());
    ArrayNode finalists = node.putArray("finalists");
    for (Finalist f : c.finalists()) {
      ObjectNode row = finalists.addObject();
      row.put("config", f.config().format());
      row.put("mean", f.mean());
      putNumber(row, "standardError", f.standardError());
      row.put("cost", f.cost());
      ObjectNode scores = row.putObject("scores");
      f.scores().entrySet().stream().sorted(Map.Entry.comparingByKey())
          .forEach(e -> scores.put(Long.toString(e.getKey()), e.getValue()));
    }
    c.comparison().ifPresent(p -> {
      ObjectNode cmp = node.putObject("comparison");
      cmp.put("config", p.config().format());
      cmp.put("baseline", p.baseline().format());
      cmp.set("seeds", JSON.valueToTree(p.seeds()));
      cmp.put("meanDifference", p.meanDifference());
      cmp.put("standardError", p.standardError());
      cmp.put("lower", p.lower());
      cmp.put("upper", p.upper());
      cmp.put("confidence", p.confidence());
      cmp.put("verdict", p.verdict().name());
    });
    return node;
  }

  private static ArrayNode traceJson(SearchResult search) {
    ArrayNode trace = JSON.createArrayNode();
    for (IterationRecord r : search.trace()) {
      ObjectNode row = trace.addObject();
      row.put("index", r.index());
      row.put("batch", r.batch());
      row.put("phase", r.phase().name());
      row.put("config", r.config().format());
      row.put("recoverySeed", r.seed());
      putNumber(row, "predicted", r.predicted());
      putNumber(row, "predictedStd", r.predictedStd());
      putNumber(row, "measured", r.observation().score());
      row.put("status", r.observation().status().name());
      row.put("reused", r.reused());
      row.set("metrics", JSON.valueToTree(r.observation().metrics()));
    }
    return trace;
  }
}
