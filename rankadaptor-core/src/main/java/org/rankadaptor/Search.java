package org.rankadaptor;

import com.google.common.base.Stopwatch;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.Multimaps;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of the search. Deterministic for a seed: the same spec over the same store contents makes
 * the same choices, which is what lets a killed search resume by replaying itself and taking finished
 * evaluations from the store instead of recovering them again.
 */
final class Search<M> {
  private static final Logger log = LoggerFactory.getLogger(Search.class);

  /** Spaces up to this size are enumerated instead of sampled. */
  private static final int ENUMERATION_LIMIT = 1 << 20;

  /** How many of the best evaluated configurations local candidates are mutated from. */
  private static final int LOCAL_PARENTS = 5;

  private final SearchSpec<M> spec;
  private final boolean randomBaseline;
  private final RankSpace space;
  private final String taskId;
  private final Stopwatch clock = Stopwatch.createStarted();
  private final Map<RankConfig, Observation> evaluated = new HashMap<>();
  private final List<IterationRecord> trace = new ArrayList<>();
  private final Map<RankConfig, Observation> stored = new HashMap<>();
  private int newEvaluations;
  private int streak;

  /**
   * @param randomBaseline choose uniformly among unevaluated configurations instead of by prediction,
   *     without meta-learning or convergence: the baseline the search is compared with
   */
  Search(SearchSpec<M> spec, boolean randomBaseline) {
    this.spec = spec;
    this.randomBaseline = randomBaseline;
    this.space = spec.space();
    this.taskId = spec.evaluator().taskId();
    String modelPrint = spec.runner().fingerprint();
    String dataPrint = spec.evaluator().fingerprint();
    for (Observation o : spec.store().forTask(taskId)) {
      Provenance p = o.provenance();
      if (p.seed() == spec.recoverySeed()
          && p.modelFingerprint().equals(modelPrint)
          && p.dataFingerprint().equals(dataPrint)) {
        stored.putIfAbsent(o.config(), o);
      }
    }
  }

  SearchResult run() {
    phase(SearchPhase.INITIALIZATION);
    log.info("search on task {}: space {}, {} stored evaluations reusable", taskId, space.describe(), stored.size());
    if (randomBaseline) {
      return runRandom();
    }
    metaLearn();
    List<RankConfig> warmup =
        space.sample(spec.warmupEvaluations(), Seeds.mix(spec.seed(), -1), true);
    for (RankConfig config : warmup) {
      Optional<StopReason> stop = budgetSpent();
      if (stop.isPresent()) {
        return finish(stop.get());
      }
      double[] prediction = predictOne(config);
      evaluate(config, SearchPhase.INITIALIZATION, prediction[0], prediction[1]);
    }

    phase(SearchPhase.ITERATION);
    for (int iteration = 0; ; iteration++) {
      Optional<StopReason> stop = budgetSpent();
      if (stop.isPresent()) {
        return finish(stop.get());
      }
      SplittableRandom random = new SplittableRandom(Seeds.mix(spec.seed(), iteration));
      List<RankConfig> candidates = candidates(random, spec.candidatesPerIteration());
      if (candidates.isEmpty()) {
        return finish(StopReason.SPACE_EXHAUSTED);
      }
      Predictions predictions = spec.model().predict(candidates);
      double[] values = spec.acquisition().values(predictions, random);
      int choice = argmax(values);
      double std = predictions.hasUncertainty() ? predictions.std()[choice] : Double.NaN;
      IterationRecord record = evaluate(candidates.get(choice), SearchPhase.ITERATION, predictions.mean()[choice], std);
      if (streak >= spec.convergencePatience()) {
        log.info("converged after {} evaluations: |predicted - measured| = {} <= {}",
            trace.size(), record.gap(), spec.convergenceThreshold());
        return finish(StopReason.CONVERGED);
      }
    }
  }

  private SearchResult runRandom() {
    phase(SearchPhase.ITERATION);
    SplittableRandom random = new SplittableRandom(Seeds.mix(spec.seed(), -2));
    while (true) {
      Optional<StopReason> stop = budgetSpent();
      if (stop.isPresent()) {
        return finish(stop.get());
      }
      List<RankConfig> candidates = candidates(random, 64);
      if (candidates.isEmpty()) {
        return finish(StopReason.SPACE_EXHAUSTED);
      }
      evaluate(candidates.get(random.nextInt(candidates.size())), SearchPhase.ITERATION, Double.NaN, Double.NaN);
    }
  }

  private void metaLearn() {
    if (!spec.metaLearning()) {
      return;
    }
    Map<String, List<Observation>> sources = new LinkedHashMap<>();
    for (Map.Entry<String, List<Observation>> e : Multimaps.asMap(spec.store().succeededByTask()).entrySet()) {
      String task = e.getKey();
      boolean wanted = spec.sourceTasks().isEmpty() ? !task.equals(taskId) : spec.sourceTasks().contains(task);
      if (wanted) {
        List<Observation> fitting = e.getValue().stream()
            .filter(o -> o.config().length() == space.numLayers() && space.contains(o.config()))
            .toList();
        if (!fitting.isEmpty()) {
          sources.put(task, fitting);
        }
      }
    }
    if (!sources.isEmpty()) {
      log.info("meta-learning from {} source tasks ({} observations)", sources.size(),
          sources.values().stream().mapToInt(List::size).sum());
      spec.model().metaLearn(sources);
    }
  }

  /** The iteration's candidates: a seeded sample (or the whole space when small), unevaluated, distinct. */
  private List<RankConfig> candidates(SplittableRandom random, int count) {
    BigInteger size = space.size();
    Set<RankConfig> out = new LinkedHashSet<>();
    if (size.compareTo(BigInteger.valueOf(Math.min(count, ENUMERATION_LIMIT))) <= 0) {
      enumerate(space, 0, space.cheapest().toArray(), out);
    } else {
      int local = randomBaseline ? 0 : (int) Math.round(count * spec.localCandidateFraction());
      List<RankConfig> parents = bestEvaluated(LOCAL_PARENTS);
      for (int i = 0; i < count; i++) {
        if (i < local && !parents.isEmpty()) {
          // Mutations of the best configurations so far: the search refines around what works.
          RankConfig parent = parents.get(random.nextInt(parents.size()));
          out.add(space.mutate(parent, random, 1 + random.nextInt(3)));
        } else {
          out.add(space.sample(random));
        }
      }
    }
    out.removeAll(evaluated.keySet());
    return new ArrayList<>(out);
  }

  private List<RankConfig> bestEvaluated(int count) {
    return evaluated.values().stream()
        .filter(Observation::succeeded)
        .sorted(Comparator.comparingDouble(Observation::score).reversed().thenComparing(Observation::config))
        .limit(count)
        .map(Observation::config)
        .toList();
  }

  private static void enumerate(RankSpace space, int layer, int[] ranks, Set<RankConfig> out) {
    if (layer == ranks.length) {
      RankConfig config = RankConfig.of(ranks);
      if (space.contains(config)) {
        out.add(config);
      }
      return;
    }
    for (int rank : space.candidates(layer)) {
      ranks[layer] = rank;
      enumerate(space, layer + 1, ranks, out);
    }
  }

  private double[] predictOne(RankConfig config) {
    Predictions p = spec.model().predict(List.of(config));
    return new double[] {p.mean()[0], p.hasUncertainty() ? p.std()[0] : Double.NaN};
  }

  private IterationRecord evaluate(RankConfig config, SearchPhase phase, double predicted, double predictedStd) {
    space.validate(config);
    Observation observation = stored.get(config);
    boolean reused = observation != null;
    if (!reused) {
      observation = recoverAndEvaluate(config, phase, predicted);
      spec.store().append(observation);
      newEvaluations++;
    }
    evaluated.put(config, observation);
    if (observation.succeeded() && !randomBaseline) {
      spec.model().update(List.of(observation));
      boolean agrees = phase == SearchPhase.ITERATION
          && Math.abs(predicted - observation.score()) <= spec.convergenceThreshold();
      streak = agrees ? streak + 1 : 0;
    } else {
      streak = 0;
    }
    IterationRecord record =
        new IterationRecord(trace.size(), phase, config, predicted, predictedStd, observation, reused, streak);
    trace.add(record);
    log.info("evaluation {} ({}{}): {} predicted {} measured {}",
        record.index(), phase, reused ? ", from store" : "", config,
        String.format("%.4f", predicted),
        observation.succeeded() ? String.format("%.4f", observation.score()) : "FAILED: " + observation.failure());
    for (SearchListener listener : spec.listeners()) {
      listener.onEvaluation(record);
    }
    return record;
  }

  private Observation recoverAndEvaluate(RankConfig config, SearchPhase phase, double predicted) {
    Provenance provenance = new Provenance(
        spec.recoverySeed(),
        spec.runner().fingerprint(),
        spec.evaluator().fingerprint(),
        ImmutableMap.of(
            "search.seed", Long.toString(spec.seed()),
            "search.phase", phase.name(),
            "search.index", Integer.toString(trace.size()),
            "search.predicted", Double.toString(predicted)));
    Stopwatch watch = Stopwatch.createStarted();
    M model;
    try {
      model = spec.runner().recover(config, spec.recoverySeed());
    } catch (RecoveryFailedException e) {
      log.warn("recovery of {} failed: {}", config, e.getMessage());
      return Observation.failed(taskId, config, e.getMessage(), seconds(watch), provenance);
    }
    try {
      Evaluation evaluation = spec.evaluator().evaluate(model);
      return Observation.succeeded(taskId, config, evaluation, seconds(watch), provenance);
    } finally {
      spec.runner().release(model);
    }
  }

  private Optional<StopReason> budgetSpent() {
    if (trace.size() >= spec.maxEvaluations()) {
      return Optional.of(StopReason.EVALUATION_BUDGET);
    }
    Optional<Duration> wall = spec.maxWallTime();
    if (wall.isPresent() && clock.elapsed().compareTo(wall.get()) >= 0) {
      return Optional.of(StopReason.TIME_BUDGET);
    }
    return Optional.empty();
  }

  private SearchResult finish(StopReason reason) {
    phase(SearchPhase.CONVERGENCE);
    Observation best = trace.stream()
        .map(IterationRecord::observation)
        .filter(Observation::succeeded)
        .max(Comparator.comparingDouble(Observation::score))
        .orElseThrow(() -> new RankAdaptorException(
            "the search on " + taskId + " stopped (" + reason + ") without a single successful evaluation"));
    Provenance provenance = new Provenance(
        spec.seed(),
        spec.runner().fingerprint(),
        spec.evaluator().fingerprint(),
        ImmutableMap.<String, String>builder()
            .put("task", taskId)
            .put("strategy", randomBaseline ? "random" : "rankadaptor")
            .put("space", space.describe())
            .put("acquisition", spec.acquisition().name())
            .put("candidatesPerIteration", Integer.toString(spec.candidatesPerIteration()))
            .put("localCandidateFraction", Double.toString(spec.localCandidateFraction()))
            .put("warmupEvaluations", Integer.toString(spec.warmupEvaluations()))
            .put("maxEvaluations", Integer.toString(spec.maxEvaluations()))
            .put("convergenceThreshold", Double.toString(spec.convergenceThreshold()))
            .put("convergencePatience", Integer.toString(spec.convergencePatience()))
            .put("recoverySeed", Long.toString(spec.recoverySeed()))
            .buildOrThrow());
    SearchResult result = new SearchResult(
        best.config(), best, trace, reason, newEvaluations, clock.elapsed(), provenance);
    log.info("search on {} finished ({}): best {} with {} after {} evaluations ({} new)",
        taskId, reason, best.config(), best.score(), trace.size(), newEvaluations);
    for (SearchListener listener : spec.listeners()) {
      listener.onFinish(result);
    }
    return result;
  }

  private void phase(SearchPhase phase) {
    for (SearchListener listener : spec.listeners()) {
      listener.onPhase(phase);
    }
  }

  private static int argmax(double[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }

  private static double seconds(Stopwatch watch) {
    return watch.elapsed(TimeUnit.NANOSECONDS) / 1e9;
  }

}
