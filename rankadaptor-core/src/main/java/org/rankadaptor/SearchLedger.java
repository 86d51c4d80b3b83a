package org.rankadaptor;

import com.google.common.collect.ImmutableMap;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one search has measured, and how a batch of fine-tunes becomes measurements: reused from the
 * store when it already holds them, otherwise run by the spec's executor and appended to the store the
 * moment each finishes, then recorded in the batch's planned order.
 *
 * <p>Apart from {@link Search}, which decides what to measure, so that the rules of the search read
 * without the bookkeeping, and the bookkeeping (store reuse, the executor's contract, the trace) has one
 * home.
 */
final class SearchLedger<M> {
  private static final Logger log = LoggerFactory.getLogger(SearchLedger.class);

  /** A (configuration, recovery seed) pair: the unit the store and the ledger key measurements by. */
  record Key(RankConfig config, long seed) {}

  /** A fine-tune the search has chosen, with what the model predicted for it. */
  record Planned(RankConfig config, long seed, SearchPhase phase, double predicted, double predictedStd) {
    /** A fine-tune chosen without a prediction (a replicate, a confirmation, the random baseline). */
    static Planned unpredicted(RankConfig config, long seed, SearchPhase phase) {
      return new Planned(config, seed, phase, Double.NaN, Double.NaN);
    }
  }

  /** The measurements of one batch: every planned fine-tune's observation, and which of them are new. */
  record Outcomes(Map<Key, Observation> observations, Set<Key> fresh) {}

  private final SearchSpec<M> spec;
  private final String taskId;
  private final long primarySeed;
  private final Map<Key, Observation> stored = new HashMap<>();
  private final Map<RankConfig, Observation> evaluated = new LinkedHashMap<>(); // with the primary seed
  private final Map<RankConfig, Map<Long, Double>> scores = new HashMap<>(); // successful, by seed
  private final Set<Key> attempted = new HashSet<>();
  private final List<IterationRecord> trace = new ArrayList<>();
  private int newEvaluations;
  private int batches;

  /** Indexes the store's reusable observations: this task, the spec's seeds, the same fingerprints. */
  SearchLedger(SearchSpec<M> spec) {
    this.spec = spec;
    this.taskId = spec.evaluator().taskId();
    this.primarySeed = spec.recoverySeed();
    Set<Long> seeds = new TreeSet<>(spec.replicateSeeds());
    seeds.add(primarySeed);
    String modelPrint = spec.runner().fingerprint();
    String dataPrint = spec.evaluator().fingerprint();
    for (Observation o : spec.store().forTask(taskId)) {
      Provenance p = o.provenance();
      if (seeds.contains(p.seed())
          && p.modelFingerprint().equals(modelPrint)
          && p.dataFingerprint().equals(dataPrint)) {
        stored.putIfAbsent(new Key(o.config(), p.seed()), o);
      }
    }
  }

  /** Observations in the store this search may reuse instead of fine-tuning again. */
  int reusable() {
    return stored.size();
  }

  /**
   * Measures a batch: takes what the store already holds, hands the rest to the executor and appends each
   * new observation to the store the moment it is known.
   */
  Outcomes run(List<Planned> batch) {
    Map<Key, Observation> outcomes = new HashMap<>();
    Set<Key> fresh = new HashSet<>();
    Map<Key, FineTune> toRun = new LinkedHashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      Planned p = batch.get(i);
      spec.space().validate(p.config());
      Key key = new Key(p.config(), p.seed());
      if (outcomes.containsKey(key) || toRun.containsKey(key)) {
        throw new IllegalStateException("a batch holds " + p.config() + " with seed " + p.seed() + " twice");
      }
      Observation reusable = stored.get(key);
      if (reusable != null) {
        outcomes.put(key, reusable);
      } else {
        toRun.put(key, fineTune(p, trace.size() + i));
      }
    }
    if (!toRun.isEmpty()) {
      spec.executor().run(List.copyOf(toRun.values()), spec.runner(), spec.evaluator(), observation -> {
        Key key = new Key(observation.config(), observation.provenance().seed());
        if (!toRun.containsKey(key) || !fresh.add(key)) {
          throw new IllegalStateException("executor " + spec.executor().describe() + " returned " + observation.config()
              + " with seed " + key.seed() + ", which the batch did not ask for or already had");
        }
        spec.store().append(observation);
        outcomes.put(key, observation);
        newEvaluations++;
      });
      if (fresh.size() != toRun.size()) {
        throw new IllegalStateException("executor " + spec.executor().describe() + " finished " + fresh.size()
            + " of the batch's " + toRun.size() + " fine-tunes without an error");
      }
    }
    for (Planned p : batch) {
      Key key = new Key(p.config(), p.seed());
      Observation observation = outcomes.get(key);
      attempted.add(key);
      if (p.seed() == primarySeed) {
        evaluated.put(p.config(), observation);
      }
      if (observation.succeeded()) {
        scores.computeIfAbsent(p.config(), c -> new TreeMap<>()).put(p.seed(), observation.score());
      }
    }
    return new Outcomes(outcomes, fresh);
  }

  /**
   * Appends the batch to the trace in its planned order and tells the listeners, so that the order in
   * which fine-tunes finish changes nothing but the store's line order.
   *
   * @param streak how many iterations in a row the stopping rule has held, as each record reports it
   */
  List<IterationRecord> record(List<Planned> batch, Outcomes outcomes, int streak) {
    List<IterationRecord> records = new ArrayList<>();
    for (Planned p : batch) {
      Key key = new Key(p.config(), p.seed());
      Observation observation = outcomes.observations().get(key);
      boolean reused = !outcomes.fresh().contains(key);
      IterationRecord record = new IterationRecord(trace.size(), batches, p.phase(), p.config(), p.seed(), p.predicted(),
          p.predictedStd(), observation, reused, streak);
      trace.add(record);
      records.add(record);
      log.info("fine-tune {} ({}{}): {} seed {} predicted {} measured {}",
          record.index(), p.phase(), reused ? ", from store" : "", p.config(), p.seed(),
          String.format(Locale.ROOT, "%.4f", p.predicted()),
          observation.succeeded() ? String.format(Locale.ROOT, "%.4f", observation.score())
              : "FAILED: " + observation.failure());
      for (SearchListener listener : spec.listeners()) {
        listener.onEvaluation(record);
      }
    }
    batches++;
    return records;
  }

  /** A fine-tune as the search asks for it, with the provenance its observation will carry. */
  private FineTune fineTune(Planned p, int index) {
    Provenance provenance = new Provenance(
        p.seed(),
        spec.runner().fingerprint(),
        spec.evaluator().fingerprint(),
        ImmutableMap.of(
            "search.seed", Long.toString(spec.seed()),
            "search.phase", p.phase().name(),
            "search.index", Integer.toString(index),
            "search.predicted", Double.toString(p.predicted())));
    return new FineTune(taskId, p.config(), p.seed(), provenance);
  }

  /** Whether the configuration has been fine-tuned with the seed, successfully or not. */
  boolean attempted(RankConfig config, long seed) {
    return attempted.contains(new Key(config, seed));
  }

  /** Whether the configuration has a successful measurement with the primary seed. */
  boolean succeededWithPrimarySeed(RankConfig config) {
    return scores.getOrDefault(config, Map.of()).containsKey(primarySeed);
  }

  /** The primary-seed observation of each configuration measured so far, in the order first measured. */
  Map<RankConfig, Observation> evaluated() {
    return evaluated;
  }

  /** The configurations measured successfully with the primary seed, in the order first measured. */
  List<RankConfig> succeeded() {
    return evaluated.values().stream().filter(Observation::succeeded).map(Observation::config).toList();
  }

  /** Successful scores by configuration and seed, as the confirmation stage pairs them. */
  Map<RankConfig, Map<Long, Double>> scores() {
    return scores;
  }

  /** Up to {@code count} configurations by their primary-seed measurement, best first. */
  List<RankConfig> bestEvaluated(int count) {
    return evaluated.values().stream()
        .filter(Observation::succeeded)
        .sorted(Comparator.comparingDouble(Observation::score).reversed().thenComparing(Observation::config))
        .limit(count)
        .map(Observation::config)
        .toList();
  }

  /** The measurement noise (standard deviation) from configurations measured with several seeds, if any. */
  OptionalDouble noise() {
    return NoiseEstimate.sigma(scores, primarySeed);
  }

  /** The fine-tunes recorded so far, in order. */
  List<IterationRecord> trace() {
    return trace;
  }

  /** How many fine-tunes of the trace were run rather than taken from the store. */
  int newEvaluations() {
    return newEvaluations;
  }
}
