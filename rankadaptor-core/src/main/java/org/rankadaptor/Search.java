package org.rankadaptor;

import com.google.common.base.Stopwatch;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.Multimaps;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of the search. Deterministic for a seed: the same spec over the same store contents makes
 * the same choices, which is what lets a killed search resume by replaying itself and taking finished
 * evaluations from the store instead of recovering them again.
 *
 * <p>Every configuration is first measured with the primary recovery seed, and only those
 * measurements train the model: a seed shifts every configuration alike, so mixing seeds would teach
 * the model the seeds. Replicates with further seeds measure the noise and, in the confirmation stage,
 * decide between the finalists by paired means.
 */
final class Search<M> {
  private static final Logger log = LoggerFactory.getLogger(Search.class);

  /** How many of the best evaluated configurations local candidates are mutated from. */
  private static final int LOCAL_PARENTS = 5;

  /** Stream of the search seed that seeds the performance model. */
  private static final long MODEL_STREAM = -3;

  private record Key(RankConfig config, long seed) {}

  private final SearchSpec<M> spec;
  private final boolean randomBaseline;
  private final RankSpace space;
  private final PerformanceModel model; // null for random search
  private final String taskId;
  private final long primarySeed;
  private final Stopwatch clock = Stopwatch.createStarted();
  private final Map<RankConfig, Observation> evaluated = new LinkedHashMap<>(); // with the primary seed
  private final Map<RankConfig, Map<Long, Double>> scores = new HashMap<>(); // successful, by seed
  private final Set<Key> attempted = new java.util.HashSet<>();
  private final List<IterationRecord> trace = new ArrayList<>();
  private final Map<Key, Observation> stored = new HashMap<>();
  private final List<RankConfig> failuresNotTaught = new ArrayList<>(); // primary-seed failures the model lacks
  private int newEvaluations;
  private int streak;

  /**
   * @param randomBaseline choose uniformly among unevaluated configurations instead of by prediction,
   *     without meta-learning, stopping rule or confirmation: the baseline the search is compared with
   */
  Search(SearchSpec<M> spec, boolean randomBaseline) {
    this.spec = spec;
    this.randomBaseline = randomBaseline;
    this.space = spec.space();
    this.model = randomBaseline ? null : spec.model().orElseThrow(() -> new IllegalStateException(
        "RankAdaptor.search needs a performance model: build the spec with SearchSpec.builder(model, runner, "
            + "evaluator); a spec without one is for random search only"));
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

  SearchResult run() {
    phase(SearchPhase.INITIALIZATION);
    log.info("search on task {}: space {}, {} stored evaluations reusable", taskId, space.describe(), stored.size());
    if (randomBaseline) {
      return runRandom();
    }
    model.reseed(Seeds.mix(spec.seed(), MODEL_STREAM));
    metaLearn();
    List<RankConfig> initial = new ArrayList<>();
    spec.anchor().ifPresent(initial::add);
    for (RankConfig c : space.sample(spec.warmupEvaluations(), Seeds.mix(spec.seed(), -1), true)) {
      if (!initial.contains(c)) {
        initial.add(c);
      }
    }
    Optional<String> stop = Optional.empty();
    StopReason reason = null;
    for (RankConfig config : initial) {
      boolean isAnchor = spec.anchor().isPresent() && config.equals(spec.anchor().get());
      if ((isAnchor ? trace.size() >= spec.maxEvaluations() : explorationLeft() <= 0) || timeSpent()) {
        reason = timeSpent() ? StopReason.TIME_BUDGET : StopReason.EVALUATION_BUDGET;
        break;
      }
      Predictions p = model.predict(List.of(config));
      evaluate(config, primarySeed, SearchPhase.INITIALIZATION, p.mean()[0], p.hasUncertainty() ? p.std()[0] : Double.NaN);
    }

    phase(SearchPhase.ITERATION);
    Optional<IterationRecord> last = Optional.empty();
    for (int iteration = 0; reason == null; iteration++) {
      if (timeSpent()) {
        reason = StopReason.TIME_BUDGET;
        break;
      }
      replicateForNoise();
      if (explorationLeft() <= 0) {
        reason = StopReason.EVALUATION_BUDGET;
        break;
      }
      SplittableRandom random = new SplittableRandom(Seeds.mix(spec.seed(), iteration));
      List<RankConfig> candidates = candidates(random, spec.candidatesPerIteration());
      if (candidates.isEmpty()) {
        reason = StopReason.SPACE_EXHAUSTED;
        break;
      }
      Predictions predictions = model.predict(candidates);
      StoppingRule.Context context =
          new StoppingRule.Context(last, noise(), incumbentPredicted(), predictions);
      Optional<String> holds = spec.stoppingRule().holds(context);
      streak = holds.isPresent() ? streak + 1 : 0;
      if (streak >= spec.stoppingRule().patience()) {
        stop = holds;
        reason = StopReason.CONVERGED;
        break;
      }
      double[] values = spec.acquisition().values(predictions, random);
      int choice = argmax(values);
      double std = predictions.hasUncertainty() ? predictions.std()[choice] : Double.NaN;
      last = Optional.of(evaluate(candidates.get(choice), primarySeed, SearchPhase.ITERATION,
          predictions.mean()[choice], std));
    }
    String explanation = switch (reason) {
      case CONVERGED -> spec.stoppingRule().name() + " held for " + streak + " iteration(s): " + stop.orElse("");
      case EVALUATION_BUDGET -> "the budget of " + spec.maxEvaluations() + " fine-tunes was spent"
          + (spec.confirms() ? " (less those kept for the confirmation stage)" : "");
      case TIME_BUDGET -> "the wall-time budget of " + spec.maxWallTime().map(Duration::toString).orElse("-")
          + " was spent";
      case SPACE_EXHAUSTED -> "every configuration of the space has been evaluated";
    };
    log.info("exploration stopped after {} fine-tunes: {}", trace.size(), explanation);
    Optional<Confirmation> confirmation = spec.confirms() ? Optional.of(confirm()) : Optional.empty();
    return finish(reason, explanation, confirmation);
  }

  private SearchResult runRandom() {
    phase(SearchPhase.ITERATION);
    SplittableRandom random = new SplittableRandom(Seeds.mix(spec.seed(), -2));
    while (true) {
      if (trace.size() >= spec.maxEvaluations()) {
        return finish(StopReason.EVALUATION_BUDGET, "the budget of " + spec.maxEvaluations()
            + " fine-tunes was spent", Optional.empty());
      }
      if (timeSpent()) {
        return finish(StopReason.TIME_BUDGET, "the wall-time budget was spent", Optional.empty());
      }
      List<RankConfig> candidates = candidates(random, 64);
      if (candidates.isEmpty()) {
        return finish(StopReason.SPACE_EXHAUSTED, "every configuration of the space has been evaluated",
            Optional.empty());
      }
      evaluate(candidates.get(random.nextInt(candidates.size())), primarySeed, SearchPhase.ITERATION, Double.NaN,
          Double.NaN);
    }
  }

  /**
   * Meta-learns from the source tasks in the store: the ones named, or every other task. A named task
   * the store does not hold is an error, not a silent search without meta-learning.
   */
  private void metaLearn() {
    if (!spec.metaLearning()) {
      log.info("meta-learning is off: the performance model starts as it is");
      return;
    }
    Map<String, List<Observation>> byTask = Multimaps.asMap(spec.store().succeededByTask());
    Set<String> known = new TreeSet<>();
    spec.store().all().forEach(o -> known.add(o.taskId()));
    for (String source : spec.sourceTasks()) {
      if (!byTask.containsKey(source)) {
        throw new IllegalArgumentException("source task '" + source + "' has no successful observation in the "
            + "store; tasks in the store: " + known);
      }
    }
    Map<String, List<Observation>> sources = new LinkedHashMap<>();
    for (Map.Entry<String, List<Observation>> e : byTask.entrySet()) {
      String task = e.getKey();
      boolean wanted = spec.sourceTasks().isEmpty() ? !task.equals(taskId) : spec.sourceTasks().contains(task);
      if (wanted) {
        List<Observation> fitting = e.getValue().stream()
            .filter(o -> o.config().length() == space.numLayers() && space.contains(o.config()))
            .toList();
        if (!fitting.isEmpty()) {
          sources.put(task, fitting);
        } else {
          log.warn("source task {} has no observation in the search space {}; it is left out", task, space.describe());
        }
      }
    }
    if (sources.isEmpty()) {
      log.warn("no source task for meta-learning (the store holds {}): the performance model starts without it",
          known);
      return;
    }
    log.info("meta-learning from {} source tasks ({} observations)", sources.size(),
        sources.values().stream().mapToInt(List::size).sum());
    model.metaLearn(sources);
  }

  /**
   * Measures the noise as soon as the stopping rule can use it: the anchor and the incumbent (or the two
   * best configurations without an anchor) with the first replicate seed. Both are likely finalists, so
   * these fine-tunes usually count towards the confirmation stage too.
   */
  private void replicateForNoise() {
    if (!spec.stoppingRule().needsNoise() || noise().isPresent() || spec.replicateSeeds().isEmpty()) {
      return;
    }
    List<RankConfig> pair = new ArrayList<>();
    spec.anchor().filter(a -> scores.getOrDefault(a, Map.of()).containsKey(primarySeed)).ifPresent(pair::add);
    for (RankConfig c : ranked()) {
      if (pair.size() == 2) {
        break;
      }
      if (!pair.contains(c)) {
        pair.add(c);
      }
    }
    long seed = spec.replicateSeeds().get(0);
    List<RankConfig> missing = pair.stream().filter(c -> !attempted.contains(new Key(c, seed))).toList();
    if (pair.size() < 2 || trace.size() + missing.size() > spec.maxEvaluations()) {
      return;
    }
    for (RankConfig c : missing) {
      evaluate(c, seed, SearchPhase.CONFIRMATION, Double.NaN, Double.NaN);
    }
  }

  /**
   * The confirmation stage: the anchor and the finalists, each with the first {@code confirmationSeeds}
   * replicate seeds (seed by seed, so that a budget cut leaves whole seeds), then the best paired mean.
   */
  private Confirmation confirm() {
    phase(SearchPhase.CONFIRMATION);
    List<RankConfig> contenders = contenders();
    List<Long> seeds = spec.replicateSeeds().subList(0, spec.confirmationSeeds());
    for (long seed : seeds) {
      for (RankConfig c : contenders) {
        if (!attempted.contains(new Key(c, seed)) && trace.size() < spec.maxEvaluations() && !timeSpent()) {
          evaluate(c, seed, SearchPhase.CONFIRMATION, Double.NaN, Double.NaN);
        }
      }
    }
    Confirmation confirmation = ConfirmationStage.decide(contenders, primarySeed, seeds, scores,
        (c, seed) -> attempted.contains(new Key(c, seed)), spec.anchor(), space, spec.confidence(), taskId);
    log.info("confirmation: {}", confirmation.reason());
    return confirmation;
  }

  /**
   * The anchor (if any) and up to {@code finalists} configurations taken in turn from two rankings: by
   * the model's predicted mean (which pools neighbouring measurements, so it is less often fooled by a
   * lucky one) and by the measurement itself (which a smooth model can miss when one configuration
   * stands apart).
   */
  private List<RankConfig> contenders() {
    List<RankConfig> out = new ArrayList<>();
    spec.anchor().filter(a -> scores.getOrDefault(a, Map.of()).containsKey(primarySeed)).ifPresent(out::add);
    List<RankConfig> byModel = ranked();
    List<RankConfig> byMeasurement = bestEvaluated(Integer.MAX_VALUE);
    int added = 0;
    for (int i = 0; added < spec.finalists() && i < byModel.size(); i++) {
      for (RankConfig c : List.of(byModel.get(i), byMeasurement.get(i))) {
        if (added < spec.finalists() && !out.contains(c)) {
          out.add(c);
          added++;
        }
      }
    }
    return out;
  }

  /**
   * The configurations measured successfully with the primary seed, best first by the model's predicted
   * mean (which pools neighbouring measurements and so is less lucky than any single one), ties by
   * the measurement.
   */
  private List<RankConfig> ranked() {
    List<RankConfig> configs = evaluated.values().stream().filter(Observation::succeeded).map(Observation::config)
        .toList();
    if (configs.isEmpty()) {
      return List.of();
    }
    double[] predicted = model.predict(configs).mean();
    Integer[] order = new Integer[configs.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -predicted[i])
        .thenComparingDouble(i -> -evaluated.get(configs.get(i)).score())
        .thenComparing(i -> configs.get(i)));
    List<RankConfig> out = new ArrayList<>();
    for (int i : order) {
      out.add(configs.get(i));
    }
    return out;
  }

  private double incumbentPredicted() {
    List<RankConfig> configs = evaluated.values().stream().filter(Observation::succeeded).map(Observation::config)
        .toList();
    return configs.isEmpty() ? Double.NaN : max(model.predict(configs).mean());
  }

  private OptionalDouble noise() {
    return NoiseEstimate.sigma(scores, primarySeed);
  }

  /**
   * Fine-tunes left for exploration: the budget less the trace and less what the confirmation stage will
   * need for the anchor and the current (or future) finalists.
   */
  private int explorationLeft() {
    int reserve = 0;
    if (spec.confirms()) {
      List<RankConfig> contenders = contenders();
      List<Long> seeds = spec.replicateSeeds().subList(0, spec.confirmationSeeds());
      for (RankConfig c : contenders) {
        for (long seed : seeds) {
          reserve += attempted.contains(new Key(c, seed)) ? 0 : 1;
        }
      }
      RankConfig anchor = spec.anchor().orElse(null);
      int anchorSlot = anchor != null && contenders.contains(anchor) ? 1 : 0;
      if (anchor != null && anchorSlot == 0 && !attempted.contains(new Key(anchor, primarySeed))) {
        reserve += spec.confirmationSeeds();
      }
      int finalistsSoFar = contenders.size() - anchorSlot;
      if (finalistsSoFar == 0) {
        // Nothing explored yet: whatever the confirmation would like, explore one configuration.
        return Math.min(1, spec.maxEvaluations() - trace.size());
      }
      // Room for further finalists only where the budget can explore and confirm them.
      int free = Math.max(0, spec.maxEvaluations() - trace.size() - reserve);
      int future = Math.min(spec.finalists() - finalistsSoFar, free / (spec.confirmationSeeds() + 1));
      reserve += future * spec.confirmationSeeds();
    }
    return spec.maxEvaluations() - trace.size() - reserve;
  }

  /** The iteration's candidates: a seeded sample (or the whole space when small), unevaluated, distinct. */
  private List<RankConfig> candidates(SplittableRandom random, int count) {
    BigInteger size = space.size();
    Set<RankConfig> out = new LinkedHashSet<>();
    if (size.compareTo(BigInteger.valueOf(Math.min(count, RankSpace.ENUMERATION_LIMIT))) <= 0) {
      out.addAll(space.enumerate());
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

  private IterationRecord evaluate(RankConfig config, long seed, SearchPhase phase, double predicted,
      double predictedStd) {
    space.validate(config);
    Key key = new Key(config, seed);
    Observation observation = stored.get(key);
    boolean reused = observation != null;
    if (!reused) {
      observation = recoverAndEvaluate(config, seed, phase, predicted);
      spec.store().append(observation);
      newEvaluations++;
    }
    attempted.add(key);
    if (seed == primarySeed) {
      evaluated.put(config, observation);
    }
    if (observation.succeeded()) {
      scores.computeIfAbsent(config, c -> new TreeMap<>()).put(seed, observation.score());
      if (seed == primarySeed && model != null) {
        model.update(List.of(observation));
      }
    } else if (seed == primarySeed && model != null) {
      failuresNotTaught.add(config);
    }
    teachFailures();
    IterationRecord record = new IterationRecord(trace.size(), phase, config, seed, predicted, predictedStd,
        observation, reused, streak);
    trace.add(record);
    log.info("fine-tune {} ({}{}): {} seed {} predicted {} measured {}",
        record.index(), phase, reused ? ", from store" : "", config, seed,
        String.format(Locale.ROOT, "%.4f", predicted),
        observation.succeeded() ? String.format(Locale.ROOT, "%.4f", observation.score())
            : "FAILED: " + observation.failure());
    for (SearchListener listener : spec.listeners()) {
      listener.onEvaluation(record);
    }
    return record;
  }

  /**
   * Failures steer the search: each configuration whose recovery or evaluation failed is taught to the
   * model as a score below every success (the worst one, less the spread of the successes), so that its
   * neighbours (the same rank in the same layer, say) are predicted worse and greedy acquisition stops
   * returning to them. Taught once two successes give that spread a scale; the store keeps the failure,
   * never the made-up score.
   */
  private void teachFailures() {
    if (failuresNotTaught.isEmpty()) {
      return;
    }
    double[] successes = evaluated.values().stream().filter(Observation::succeeded)
        .mapToDouble(Observation::score).toArray();
    if (successes.length < 2) {
      return;
    }
    double worst = Arrays.stream(successes).min().orElseThrow();
    double best = Arrays.stream(successes).max().orElseThrow();
    double penalty = worst - Math.max(best - worst, 1e-6);
    List<Observation> taught = new ArrayList<>();
    for (RankConfig failed : failuresNotTaught) {
      taught.add(Observation.succeeded(taskId, failed, Evaluation.of(penalty), 0,
          new Provenance(primarySeed, "failure penalty", "", Map.of())));
    }
    log.info("taught the model {} failed configuration(s) at score {}", taught.size(),
        String.format(Locale.ROOT, "%.4f", penalty));
    failuresNotTaught.clear();
    model.update(taught);
  }

  private Observation recoverAndEvaluate(RankConfig config, long seed, SearchPhase phase, double predicted) {
    Provenance provenance = new Provenance(
        seed,
        spec.runner().fingerprint(),
        spec.evaluator().fingerprint(),
        ImmutableMap.of(
            "search.seed", Long.toString(spec.seed()),
            "search.phase", phase.name(),
            "search.index", Integer.toString(trace.size()),
            "search.predicted", Double.toString(predicted)));
    Stopwatch watch = Stopwatch.createStarted();
    M recovered;
    try {
      recovered = spec.runner().recover(config, seed);
    } catch (RecoveryFailedException e) {
      log.warn("recovery of {} with seed {} failed: {}", config, seed, e.getMessage());
      return Observation.failed(taskId, config, e.getMessage(), seconds(watch), provenance);
    }
    try {
      Evaluation evaluation = spec.evaluator().evaluate(recovered);
      return Observation.succeeded(taskId, config, evaluation, seconds(watch), provenance);
    } catch (RuntimeException e) {
      // An evaluation that cannot be made (a NaN score, a model that produces no finite log-likelihood) is
      // a result about this configuration: recorded, so that a rerun does not stop at the same place.
      String why = "evaluation failed: " + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName());
      log.warn("evaluation of {} with seed {} failed: {}", config, seed, why);
      return Observation.failed(taskId, config, why, seconds(watch), provenance);
    } finally {
      spec.runner().release(recovered);
    }
  }

  private boolean timeSpent() {
    Optional<Duration> wall = spec.maxWallTime();
    return wall.isPresent() && clock.elapsed().compareTo(wall.get()) >= 0;
  }

  private SearchResult finish(StopReason reason, String explanation, Optional<Confirmation> confirmation) {
    phase(SearchPhase.CONVERGENCE);
    RankConfig best;
    if (confirmation.isPresent()) {
      best = confirmation.get().recommended();
    } else {
      best = evaluated.values().stream()
          .filter(Observation::succeeded)
          .max(Comparator.comparingDouble(Observation::score))
          .map(Observation::config)
          .orElseThrow(() -> new RankAdaptorException(
              "the search on " + taskId + " stopped (" + reason + ") without a single successful evaluation"));
    }
    Observation bestObservation = Objects.requireNonNull(evaluated.get(best), "no primary observation of the best");
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("task", taskId);
    settings.put("strategy", randomBaseline ? "random" : "rankadaptor");
    settings.put("space", space.describe());
    settings.put("recoverySeed", Long.toString(spec.recoverySeed()));
    settings.put("maxEvaluations", Integer.toString(spec.maxEvaluations()));
    if (!randomBaseline) {
      settings.put("acquisition", spec.acquisition().name());
      settings.put("candidatesPerIteration", Integer.toString(spec.candidatesPerIteration()));
      settings.put("localCandidateFraction", Double.toString(spec.localCandidateFraction()));
      settings.put("warmupEvaluations", Integer.toString(spec.warmupEvaluations()));
      settings.put("stoppingRule", spec.stoppingRule().name());
      settings.put("anchor", spec.anchor().map(RankConfig::format).orElse("none"));
      settings.put("replicateSeeds", spec.replicateSeeds().toString());
      settings.put("finalists", Integer.toString(spec.finalists()));
      settings.put("confirmationSeeds", Integer.toString(spec.confirmationSeeds()));
      settings.put("confidence", Double.toString(spec.confidence()));
    }
    Provenance provenance = new Provenance(spec.seed(), spec.runner().fingerprint(), spec.evaluator().fingerprint(),
        settings);
    SearchResult result = new SearchResult(best, bestObservation, trace, reason, explanation, newEvaluations,
        clock.elapsed(), provenance, confirmation, randomBaseline ? OptionalDouble.empty() : noise());
    log.info("search on {} finished ({}): best {} with {} after {} fine-tunes ({} new)",
        taskId, reason, best, result.bestScore(), trace.size(), newEvaluations);
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

  private static double max(double[] values) {
    double best = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      best = Math.max(best, v);
    }
    return best;
  }

  private static double seconds(Stopwatch watch) {
    return watch.elapsed(TimeUnit.NANOSECONDS) / 1e9;
  }
}
