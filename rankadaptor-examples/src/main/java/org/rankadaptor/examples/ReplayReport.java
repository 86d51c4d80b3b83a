package org.rankadaptor.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.replay.IntervalCoverage;
import org.rankadaptor.replay.RecoveryTable;
import org.rankadaptor.replay.TableReplay;

/** Renders a replay's statistics as Markdown and JSON. */
final class ReplayReport {
  private ReplayReport() {}

  static String markdown(TableReplay replay, RecoveryTable table, JsonNode provenance,
      List<ReplayStrategies.Summary> summaries, IntervalCoverage coverage, int searches, int budget,
      String command) {
    StringBuilder sb = new StringBuilder();
    RankConfig uniform = replay.space().uniform(RankSpace.DEFAULT_PINNED_RANK);
    ReplayStrategies.Summary random = summaries.stream().filter(s -> s.name().startsWith("Random")).findFirst()
        .orElseThrow();
    int top = ReplayStrategies.topCount(replay);
    sb.append("# Search strategies replayed on real recoveries\n\n");
    sb.append(String.format(Locale.ROOT, "Table: %d configurations of `%s` (%s), recovered with %d seeds %s; "
            + "target `%s`. Space replayed: %s, %d configurations. Every strategy ran %d times (search seeds 0..%d, "
            + "each with the table's seeds rotated so that its primary recovery seed differs) with a budget of %d "
            + "fine-tunes. What it returned is judged by the table's seed-averaged score (higher is better; "
            + "-ln perplexity).%n%n",
        table.configs().size(), provenance.path("setting").asText(), provenance.path("space").asText(),
        replay.seeds().size(), replay.seeds(), provenance.path("validationTask").asText(), replay.space().describe(),
        replay.ranked().size(), searches, searches - 1, budget));
    sb.append(String.format(Locale.ROOT, "Best configuration %s: %.5f (perplexity %.3f); uniform rank 8: %.5f "
            + "(perplexity %.3f, position %d of %d); top 5 %% = the best %d.%n%n",
        replay.ranked().get(0).format(), replay.best(), Math.exp(-replay.best()), replay.uniformTruth(),
        Math.exp(-replay.uniformTruth()), replay.ranked().indexOf(uniform) + 1, replay.ranked().size(), top));
    sb.append("| strategy | mean regret | vs random search | in the top 5 % | verdict \"better\" | of which false "
        + "| returned uniform 8 | fine-tunes |\n|---|---|---|---|---|---|---|---|\n");
    for (ReplayStrategies.Summary s : summaries) {
      sb.append(String.format(Locale.ROOT, "| %s | %.5f | %.2fx | %d of %d | %d | %d | %d | %.1f |%n", s.name(),
          s.meanRegret(), s.meanRegret() / random.meanRegret(), Math.round(s.topShare() * searches), searches,
          s.better(), s.falseBetter(), s.uniformReturned(), s.meanFineTunes()));
    }
    sb.append(String.format(Locale.ROOT, "%nSeed noise in this table: the standard deviation of a configuration's "
        + "score across seeds, after removing each seed's shift shared by all configurations, is %.5f; the "
        + "seed-averaged scores of the space spread with standard deviation %.5f.%n%n", replay.noise(),
        spread(replay)));
    sb.append(String.format(Locale.ROOT, "The MLP ensemble's predicted intervals (default settings, fed 40 "
        + "configurations' scores with one seed, predicting the other configurations of the whole table with that "
        + "seed, five draws): its own 80 %% interval covered %.0f %% of %d held-out measurements; widened by the "
        + "noise of one fine-tune (%.5f) it covered %.0f %%.%n%n", 100 * coverage.modelOnly(), coverage.predictions(),
        coverage.noise(), 100 * coverage.withNoise()));
    sb.append("Command: `").append(command).append("`\n");
    return sb.toString();
  }

  /**
   * The batch table: mean regret per model, batch size and budget, and the paired difference from
   * batches of one; empty when none was measured.
   */
  static String batchMarkdown(List<ReplayStrategies.BatchCost> costs, int searches) {
    if (costs.isEmpty()) {
      return "";
    }
    List<Integer> budgets = costs.stream().map(ReplayStrategies.BatchCost::budget).distinct().sorted().toList();
    StringBuilder sb = new StringBuilder("\n## Several fine-tunes at once\n\n");
    sb.append(String.format(Locale.ROOT, "The default protocol (no source task) choosing `q` configurations per "
        + "iteration (`SearchSpec.batchSize`), over the same %d search seeds at each budget of fine-tunes: mean regret, "
        + "and below it the paired difference from `q` = 1 at the same budget with its 95 %% interval (positive: "
        + "batching did worse).%n%n", searches));
    sb.append("| model | q |");
    budgets.forEach(b -> sb.append(" ").append(b).append(" fine-tunes |"));
    sb.append("\n|---|---|");
    budgets.forEach(b -> sb.append("---|"));
    sb.append("\n");
    for (String model : costs.stream().map(ReplayStrategies.BatchCost::model).distinct().toList()) {
      for (int q : costs.stream().map(ReplayStrategies.BatchCost::batchSize).distinct().sorted().toList()) {
        sb.append("| ").append(model).append(" | ").append(q).append(" |");
        for (int b : budgets) {
          ReplayStrategies.BatchCost c = costs.stream()
              .filter(x -> x.model().equals(model) && x.batchSize() == q && x.budget() == b).findFirst().orElseThrow();
          sb.append(q == 1 ? String.format(Locale.ROOT, " %.5f |", c.meanRegret())
              : String.format(Locale.ROOT, " %.5f<br>%+.5f [%+.5f, %+.5f] |", c.meanRegret(), c.difference(),
                  c.lower(), c.upper()));
        }
        sb.append("\n");
      }
    }
    return sb.toString();
  }

  static JsonNode json(TableReplay replay, List<ReplayStrategies.Summary> summaries,
      List<ReplayStrategies.BatchCost> batches) {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode root = mapper.createObjectNode();
    root.put("best", replay.ranked().get(0).format());
    root.put("bestTruth", replay.best());
    root.put("uniformTruth", replay.uniformTruth());
    root.put("configurations", replay.ranked().size());
    ArrayNode strategies = root.putArray("strategies");
    for (ReplayStrategies.Summary s : summaries) {
      ObjectNode n = strategies.addObject();
      n.put("name", s.name());
      n.put("meanTruth", s.meanTruth());
      n.put("meanRegret", s.meanRegret());
      n.put("topShare", s.topShare());
      n.put("better", s.better());
      n.put("falseBetter", s.falseBetter());
      n.put("uniformReturned", s.uniformReturned());
      n.put("meanFineTunes", s.meanFineTunes());
      ArrayNode returned = n.putArray("returned");
      for (TableReplay.Outcome o : s.outcomes()) {
        ObjectNode r = returned.addObject();
        r.put("config", o.returned().format());
        r.put("truth", o.truth());
        r.put("rank", o.rank());
        r.put("verdict", o.verdict().map(Enum::name).orElse(null));
        r.put("fineTunes", o.fineTunes());
      }
    }
    if (!batches.isEmpty()) {
      root.set("batches", mapper.valueToTree(batches));
    }
    return root;
  }

  static double spread(TableReplay replay) {
    double mean = replay.ranked().stream().mapToDouble(replay::truth).average().orElseThrow();
    return Math.sqrt(replay.ranked().stream().mapToDouble(c -> (replay.truth(c) - mean) * (replay.truth(c) - mean))
        .average().orElseThrow());
  }
}
