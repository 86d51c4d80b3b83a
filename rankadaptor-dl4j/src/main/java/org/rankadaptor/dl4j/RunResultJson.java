package org.rankadaptor.dl4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.rankadaptor.Observation;
import org.rankadaptor.RankConfig;
import org.rankadaptor.SearchResult;

/**
 * The JSON of a run's {@code result.json} ({@link RunFolder#RESULT_FILE}): the search's result, the seeds,
 * the recovery's fingerprint, the paper's protocol and random search, the baselines and the held-out
 * measurements. The three fields that say whose adapters the folder holds ({@code best}, {@code
 * recoverySeed}, {@code recoveryFingerprint}) are also read back here, so that writer and reader agree.
 */
final class RunResultJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RunResultJson() {}

  /** What the run found, in {@code result.json}'s fields and order. */
  static ObjectNode of(String task, SearchResult search, long recoverySeed, long searchSeed, String recoveryFingerprint,
      String space, Map<String, Observation> baselines, Optional<SearchResult> random, Optional<SearchResult> paper,
      List<HeldOutMeasurement> heldOut) {
    ObjectNode root = JSON.createObjectNode();
    root.put("task", task);
    SearchResultJson.write(search, root);
    root.put("recoverySeed", recoverySeed);
    root.put("searchSeed", searchSeed);
    root.put("recoveryFingerprint", recoveryFingerprint);
    root.put("space", space);
    paper.ifPresent(r -> SearchResultJson.write(r, root.putObject("paperProtocol")));
    random.ifPresent(r -> SearchResultJson.write(r, root.putObject("randomSearch")));
    ObjectNode base = root.putObject("baselines");
    baselines.forEach((name, o) -> {
      ObjectNode row = base.putObject(name);
      row.put("config", o.config().format());
      row.put("status", o.status().name());
      SearchResultJson.putNumber(row, "measured", o.score());
      row.set("metrics", JSON.valueToTree(o.metrics()));
    });
    ArrayNode held = root.putArray("heldOut");
    for (HeldOutMeasurement m : heldOut) {
      ObjectNode row = held.addObject();
      row.put("method", m.method());
      row.put("config", m.config().format());
      row.put("recoverySeed", m.recoverySeed());
      row.put("task", m.observation().taskId());
      row.put("status", m.observation().status().name());
      SearchResultJson.putNumber(row, "measured", m.observation().score());
      row.set("metrics", JSON.valueToTree(m.observation().metrics()));
    }
    return root;
  }

  /** Whether a result file's adapters are those of {@code best} recovered with this seed and fingerprint. */
  static boolean sameRecovery(JsonNode result, RankConfig best, long recoverySeed, String recoveryFingerprint) {
    return best.format().equals(result.path("best").asText())
        && result.path("recoverySeed").asLong() == recoverySeed
        && result.path("recoveryFingerprint").asText().equals(recoveryFingerprint);
  }
}
