package org.rankadaptor.replay;

import org.rankadaptor.AtomicFiles;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.rankadaptor.Evaluation;
import org.rankadaptor.Evaluator;
import org.rankadaptor.InvalidRankConfigException;
import org.rankadaptor.Observation;
import org.rankadaptor.RankAdaptorException;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RecoveryFailedException;
import org.rankadaptor.RecoveryRunner;

/**
 * A table of real recoveries: for configurations and recovery seeds, the scores one recovery reached on
 * one or more tasks. Replayed through {@link #runner()} and {@link #evaluator(String)} it stands in for
 * real fine-tunes, so that search strategies can be compared offline, many times, on the same
 * recoveries, and judged by each configuration's {@linkplain #meanScore seed-averaged} score.
 *
 * <p>File form: JSON Lines, one row per (configuration, recovery seed):
 * <pre>{"config":"8,2,4,2,8","seed":42,"scores":{"valid":-2.91,"test":-2.88},"costSeconds":11.2}</pre>
 * A failed recovery has {@code "failure"} instead of {@code "scores"}. Parsing is strict: every field
 * of the right type, no unknown field, one row per (configuration, seed); a bad line is an error naming
 * the file and the line.
 *
 * <p>Immutable and thread-safe.
 *
 * @since 0.1.0
 */
public final class RecoveryTable {
  /** Strict: content after a row's object and duplicate keys are errors, not silently dropped. */
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();

  /**
   * One recovery.
   *
   * @param config the configuration recovered
   * @param seed its recovery seed
   * @param scores score per task id (higher is better); empty when the recovery failed
   * @param costSeconds what the recovery and its measurements cost when they were made
   * @param failure why the recovery failed; empty when it succeeded
   */
  public record Row(RankConfig config, long seed, Map<String, Double> scores, double costSeconds,
      Optional<String> failure) {

    /** Checks that a row has scores or a failure, and that the scores are finite; copies them, sorted. */
    public Row {
      Objects.requireNonNull(config, "config");
      scores = Collections.unmodifiableMap(new TreeMap<>(scores));
      Objects.requireNonNull(failure, "failure");
      if (failure.isEmpty() && scores.isEmpty()) {
        throw new IllegalArgumentException("row " + config + " seed " + seed + " has neither scores nor a failure");
      }
      scores.forEach((task, score) -> {
        if (!Double.isFinite(score)) {
          throw new IllegalArgumentException("row " + config + " seed " + seed + ": score of " + task + " is " + score);
        }
      });
    }

    /** Whether the recovery succeeded (its scores are measurements). */
    public boolean succeeded() {
      return failure.isEmpty();
    }
  }

  private final Map<RankConfig, Map<Long, Row>> rows; // (config -> seed -> row), both sorted
  private final Set<String> tasks;

  private RecoveryTable(Map<RankConfig, Map<Long, Row>> rows) {
    this.rows = rows;
    Set<String> t = new TreeSet<>();
    rows.values().forEach(bySeed -> bySeed.values().forEach(r -> t.addAll(r.scores().keySet())));
    this.tasks = Collections.unmodifiableSet(t);
  }

  /** A table of these rows. */
  public static RecoveryTable of(List<Row> rows) {
    Map<RankConfig, Map<Long, Row>> byConfig = new TreeMap<>();
    for (Row row : rows) {
      Row before = byConfig.computeIfAbsent(row.config(), c -> new TreeMap<>()).put(row.seed(), row);
      if (before != null) {
        throw new IllegalArgumentException("two rows for " + row.config().format() + " with seed " + row.seed());
      }
    }
    byConfig.replaceAll((c, bySeed) -> Collections.unmodifiableMap(bySeed));
    return new RecoveryTable(Collections.unmodifiableMap(byConfig));
  }

  /**
   * The table of a store's observations: the observations of one configuration and recovery seed
   * (their provenance's seed) on several tasks make one row, their costs added. Failed observations make
   * a failed row unless another task of the same recovery succeeded.
   */
  public static RecoveryTable fromObservations(List<Observation> observations) {
    Map<RankConfig, Map<Long, List<Observation>>> grouped = new TreeMap<>();
    for (Observation o : observations) {
      grouped.computeIfAbsent(o.config(), c -> new TreeMap<>())
          .computeIfAbsent(o.provenance().seed(), s -> new ArrayList<>()).add(o);
    }
    List<Row> rows = new ArrayList<>();
    grouped.forEach((config, bySeed) -> bySeed.forEach((seed, list) -> {
      Map<String, Double> scores = new TreeMap<>();
      double cost = 0;
      String failure = null;
      for (Observation o : list) {
        cost += o.costSeconds();
        if (o.succeeded()) {
          // A recovery measured again after a crash gives the same score (recovery is deterministic for a
          // seed) and is kept once; a different score means the observations are not one recovery's.
          Double before = scores.put(o.taskId(), o.score());
          if (before != null && before != o.score()) {
            throw new IllegalArgumentException("two different scores of " + o.taskId() + " for " + config.format()
                + " with seed " + seed + ": " + before + " and " + o.score());
          }
          if (before != null) {
            cost -= o.costSeconds();
          }
        } else {
          failure = o.failure();
        }
      }
      rows.add(new Row(config, seed, scores, cost,
          scores.isEmpty() ? Optional.of(failure == null || failure.isEmpty() ? "failed" : failure) : Optional.empty()));
    }));
    return of(rows);
  }

  /**
   * Reads a table written by {@link #write}.
   *
   * @throws RecoveryTableException naming the file and line of the first bad row, or if the file cannot
   *     be read
   */
  public static RecoveryTable read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new RecoveryTableException("cannot read recovery table " + file + ": " + e.getMessage(), e);
    }
    List<Row> rows = new ArrayList<>();
    Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      Row row;
      try {
        row = parse(line);
      } catch (JsonProcessingException | IllegalArgumentException e) {
        throw new RecoveryTableException(file + " line " + (i + 1) + ": " + e.getMessage(), e);
      }
      if (!seen.add(row.config().format() + "@" + row.seed())) {
        throw new RecoveryTableException(file + " line " + (i + 1) + ": a second row for "
            + row.config().format() + " with seed " + row.seed(), null);
      }
      rows.add(row);
    }
    if (rows.isEmpty()) {
      throw new RecoveryTableException(file + " holds no rows", null);
    }
    return of(rows);
  }

  private static Row parse(String line) throws JsonProcessingException {
    JsonNode node = JSON.readTree(line);
    if (!(node instanceof ObjectNode object)) {
      throw new IllegalArgumentException("not a JSON object");
    }
    for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!List.of("config", "seed", "scores", "costSeconds", "failure").contains(name)) {
        throw new IllegalArgumentException("unknown field '" + name + "'");
      }
    }
    JsonNode config = required(object, "config");
    JsonNode seed = required(object, "seed");
    JsonNode cost = required(object, "costSeconds");
    if (!config.isTextual()) {
      throw new IllegalArgumentException("config must be a string such as \"8,4,12\", got " + config);
    }
    if (!seed.isIntegralNumber() || !seed.canConvertToLong()) {
      throw new IllegalArgumentException("seed must be an integer, got " + seed);
    }
    if (!cost.isNumber() || !(cost.asDouble() >= 0) || !Double.isFinite(cost.asDouble())) {
      throw new IllegalArgumentException("costSeconds must be a finite number >= 0, got " + cost);
    }
    RankConfig parsed;
    try {
      parsed = RankConfig.parse(config.asText());
    } catch (InvalidRankConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    Map<String, Double> scores = new LinkedHashMap<>();
    JsonNode scoresNode = object.get("scores");
    if (scoresNode != null) {
      if (!scoresNode.isObject()) {
        throw new IllegalArgumentException("scores must be an object of task -> number");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = scoresNode.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isNumber()) {
          throw new IllegalArgumentException("score of " + e.getKey() + " must be a number, got " + e.getValue());
        }
        scores.put(e.getKey(), e.getValue().asDouble());
      }
    }
    JsonNode failure = object.get("failure");
    if (failure != null && !failure.isTextual()) {
      throw new IllegalArgumentException("failure must be a string, got " + failure);
    }
    if ((failure == null) == scores.isEmpty()) {
      throw new IllegalArgumentException("a row has either non-empty scores or a failure, not both or neither");
    }
    return new Row(parsed, seed.asLong(), scores, cost.asDouble(), Optional.ofNullable(failure).map(JsonNode::asText));
  }

  private static JsonNode required(ObjectNode object, String field) {
    JsonNode value = object.get(field);
    if (value == null || value.isNull()) {
      throw new IllegalArgumentException("missing field '" + field + "'");
    }
    return value;
  }

  /** Writes the table as JSON Lines, configurations and seeds in order. */
  public void write(Path file) {
    StringBuilder sb = new StringBuilder();
    for (Map<Long, Row> bySeed : rows.values()) {
      for (Row row : bySeed.values()) {
        ObjectNode node = JSON.createObjectNode();
        node.put("config", row.config().format());
        node.put("seed", row.seed());
        if (row.succeeded()) {
          ObjectNode scores = node.putObject("scores");
          row.scores().forEach(scores::put);
        } else {
          node.put("failure", row.failure().get());
        }
        node.put("costSeconds", Math.round(row.costSeconds() * 1000) / 1000.0);
        sb.append(node).append('\n');
      }
    }
    try {
      AtomicFiles.writeString(file, sb.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write recovery table " + file + ": " + e.getMessage(), e);
    }
  }

  /** The configurations, in lexicographic order. */
  public List<RankConfig> configs() {
    return List.copyOf(rows.keySet());
  }

  /** The task ids with at least one score. */
  public Set<String> tasks() {
    return tasks;
  }

  /** Number of rows. */
  public int size() {
    return rows.values().stream().mapToInt(Map::size).sum();
  }

  /** The recovery seeds a configuration has rows for, ascending; empty when it has none. */
  public List<Long> seeds(RankConfig config) {
    Map<Long, Row> bySeed = rows.get(config);
    return bySeed == null ? List.of() : List.copyOf(bySeed.keySet());
  }

  /** The seeds every configuration has a row for, ascending. */
  public List<Long> commonSeeds() {
    Set<Long> common = null;
    for (Map<Long, Row> bySeed : rows.values()) {
      if (common == null) {
        common = new TreeSet<>(bySeed.keySet());
      } else {
        common.retainAll(bySeed.keySet());
      }
    }
    return common == null ? List.of() : List.copyOf(common);
  }

  /** The row of a configuration and seed. */
  public Optional<Row> row(RankConfig config, long seed) {
    Map<Long, Row> bySeed = rows.get(config);
    return Optional.ofNullable(bySeed == null ? null : bySeed.get(seed));
  }

  /** The score of a configuration on a task with one seed; empty if absent or failed. */
  public OptionalDouble score(RankConfig config, long seed, String task) {
    Double score = row(config, seed).map(r -> r.scores().get(task)).orElse(null);
    return score == null ? OptionalDouble.empty() : OptionalDouble.of(score);
  }

  /**
   * A configuration's score on a task averaged over the given seeds: its expected quality, what a
   * search should be judged by.
   *
   * @throws IllegalArgumentException if a seed has no successful row for the configuration and task
   */
  public double meanScore(RankConfig config, String task, List<Long> seeds) {
    double sum = 0;
    for (long seed : seeds) {
      sum += score(config, seed, task).orElseThrow(() -> new IllegalArgumentException(
          "the table has no " + task + " score for " + config.format() + " with seed " + seed));
    }
    return sum / seeds.size();
  }

  /**
   * Replays the table as recoveries: {@code recover(config, seed)} returns that row.
   *
   * @return a runner that throws {@link RecoveryFailedException} for a failed row and
   *     {@link RankAdaptorException} for a configuration and seed the table does not hold
   */
  public RecoveryRunner<Row> runner() {
    return new RecoveryRunner<>() {
      @Override
      public Row recover(RankConfig config, long seed) {
        Row row = row(config, seed).orElseThrow(() -> new RankAdaptorException(
            "the recovery table has no row for " + config.format() + " with seed " + seed + " (its seeds for it: "
                + seeds(config) + ")"));
        if (!row.succeeded()) {
          throw new RecoveryFailedException(row.failure().get());
        }
        return row;
      }

      @Override
      public String fingerprint() {
        return "recovery-table";
      }
    };
  }

  /**
   * Replays the table's scores on one task.
   *
   * @throws IllegalArgumentException if no row has that task
   */
  public Evaluator<Row> evaluator(String task) {
    if (!tasks.contains(task)) {
      throw new IllegalArgumentException("the recovery table has no task '" + task + "'; it has " + tasks);
    }
    return new Evaluator<>() {
      @Override
      public String taskId() {
        return task;
      }

      @Override
      public Evaluation evaluate(Row row) {
        Double score = row.scores().get(task);
        if (score == null) {
          throw new RankAdaptorException("the recovery table's row for " + row.config().format() + " with seed "
              + row.seed() + " has no score for " + task);
        }
        return Evaluation.of(score);
      }
    };
  }
}
