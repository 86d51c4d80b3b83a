package org.rankadaptor;

import com.google.common.base.Stopwatch;
import com.google.common.collect.ImmutableMap;
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

  /** A fine-tune the search has chosen, with what the model predicted for it. */
  private record Planned(RankConfig config, long seed, SearchPhase phase, double predicted, double predictedStd) {}

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
  private int batches;
  private int streak;

  /**
   * @param randomBaseline choose uniformly among unevaluated configurations instead of by prediction,
   *     without meta-learning, stopping rule or confirmation: the baseline the search is compared with
   */
  Search(SearchSpec<M> spec, boolean randomBaseline) {
    if (!randomBaseline) {
      spec.claimForSearch();
    }
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
    for (int next = 0; next < initial.size() && reason == null; ) {
      if (timeSpent()) {
        reason = StopReason.TIME_BUDGET;
        break;
      }
      // The anchor needs only room in the budget; a warm-up configuration needs room for exploration too.
      // A batch that meets a limit ends there, and the limit is looked at again once it has run.
      int left = explorationLeft();
      int warmups = 0;
      List<RankConfig> batch = new ArrayList<>();
      while (batch.size() < spec.batchSize() && next < initial.size()) {
        RankConfig config = initial.get(next);
        boolean isAnchor = spec.anchor().isPresent() && config.equals(spec.anchor().get());
        boolean fits = trace.size() + batch.size() < spec.maxEvaluations() && (isAnchor || warmups < left);
        if (!fits) {
          if (batch.isEmpty()) {
            reason = StopReason.EVALUATION_BUDGET;
          }
          break;
        }
        batch.add(config);
        warmups += isAnchor ? 0 : 1;
        next++;
      }
      if (!batch.isEmpty()) {
        Predictions p = model.predict(batch);
        List<Planned> planned = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
          planned.add(new Planned(batch.get(i), primarySeed, SearchPhase.INITIALIZATION, p.mean()[i],
              p.hasUncertainty() ? p.std()[i] : Double.NaN));
        }
        evaluate(planned);
      }
    }

    phase(SearchPhase.ITERATION);
    Optional<IterationRecord> last = Optional.empty();
    for (int iteration = 0; reason == null; iteration++) {
      if (timeSpent()) {
        reason = StopReason.TIME_BUDGET;
        break;
      }
      replicateForNoise();
      int exploration = explorationLeft(); // nothing below changes it before the batch runs
      if (exploration <= 0) {
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
      List<Planned> batch = new ArrayList<>();
      for (int choice : choose(predictions, random, Math.min(spec.batchSize(), exploration))) {
        batch.add(new Planned(candidates.get(choice), primarySeed, SearchPhase.ITERATION, predictions.mean()[choice],
            predictions.hasUncertainty() ? predictions.std()[choice] : Double.NaN));
      }
      // The paper's rule compares prediction and measurement of the acquisition's first choice.
      last = Optional.of(evaluate(batch).get(0));
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
      List<RankConfig> pool = new ArrayList<>(candidates);
      List<Planned> batch = new ArrayList<>();
      int size = Math.min(spec.batchSize(), spec.maxEvaluations() - trace.size());
      while (batch.size() < size && !pool.isEmpty()) {
        batch.add(new Planned(pool.remove(random.nextInt(pool.size())), primarySeed, SearchPhase.ITERATION,
            Double.NaN, Double.NaN));
      }
      evaluate(batch);
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
    Map<String, List<Observation>> byTask = spec.store().succeededByTask();
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
    List<Planned> planned = missing.stream()
        .map(c -> new Planned(c, seed, SearchPhase.CONFIRMATION, Double.NaN, Double.NaN)).toList();
    for (int from = 0; from < planned.size(); from += spec.batchSize()) {
      evaluate(planned.subList(from, Math.min(planned.size(), from + spec.batchSize())));
    }
  }

  /**
   * The confirmation stage: the anchor and the finalists, each with the first {@code confirmationSeeds}
   * replicate seeds (seed by seed, so that a budget cut leaves whole seeds; in batches of up to the batch
   * size), then the best paired mean.
   */
  private Confirmation confirm() {
    phase(SearchPhase.CONFIRMATION);
    List<RankConfig> contenders = contenders();
    List<Long> seeds = spec.replicateSeeds().subList(0, spec.confirmationSeeds());
    List<Planned> pending = new ArrayList<>();
    for (long seed : seeds) {
      for (RankConfig c : contenders) {
        if (!attempted.contains(new Key(c, seed))) {
          pending.add(new Planned(c, seed, SearchPhase.CONFIRMATION, Double.NaN, Double.NaN));
        }
      }
    }
    while (!pending.isEmpty() && trace.size() < spec.maxEvaluations() && !timeSpent()) {
      int size = Math.min(pending.size(), Math.min(spec.batchSize(), spec.maxEvaluations() - trace.size()));
      evaluate(pending.subList(0, size));
      pending = pending.subList(size, pending.size());
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

  /**
   * Runs a batch: takes what the store already holds, hands the rest to the executor, appends each new
   * observation to the store the moment it is known, then records the whole batch in its planned order
   * (the trace, the model's update, the listeners), so that the order in which fine-tunes finish changes
   * nothing but the store's line order.
   */
  private List<IterationRecord> evaluate(List<Planned> batch) {
    Map<Key, Observation> outcomes = new HashMap<>();
    Set<Key> fresh = new java.util.HashSet<>();
    Map<Key, FineTune> toRun = new LinkedHashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      Planned p = batch.get(i);
      space.validate(p.config());
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
    List<Observation> taught = new ArrayList<>();
    for (Planned p : batch) {
      Key key = new Key(p.config(), p.seed());
      Observation observation = outcomes.get(key);
      attempted.add(key);
      if (p.seed() == primarySeed) {
        evaluated.put(p.config(), observation);
      }
      if (observation.succeeded()) {
        scores.computeIfAbsent(p.config(), c -> new TreeMap<>()).put(p.seed(), observation.score());
        if (p.seed() == primarySeed && model != null) {
          taught.add(observation);
        }
      } else if (p.seed() == primarySeed && model != null) {
        failuresNotTaught.add(p.config());
      }
    }
    if (!taught.isEmpty()) {
      model.update(taught);
    }
    teachFailures();
    List<IterationRecord> records = new ArrayList<>();
    for (Planned p : batch) {
      Key key = new Key(p.config(), p.seed());
      Observation observation = outcomes.get(key);
      boolean reused = !fresh.contains(key);
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

  /**
   * The indices of {@code count} distinct candidates, in the order the acquisition chose them: each is
   * the best of a fresh call of the acquisition among those not yet chosen, so that Thompson sampling
   * takes {@code count} independent draws and a deterministic rule its {@code count} best.
   */
  private List<Integer> choose(Predictions predictions, SplittableRandom random, int count) {
    boolean[] taken = new boolean[predictions.size()];
    List<Integer> out = new ArrayList<>();
    while (out.size() < Math.min(count, taken.length)) {
      double[] values = spec.acquisition().values(predictions, random);
      int best = -1;
      for (int i = 0; i < values.length; i++) {
        if (!taken[i] && (best < 0 || values[i] > values[best])) {
          best = i;
        }
      }
      taken[best] = true;
      out.add(best);
    }
    return out;
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
    settings.put("batchSize", Integer.toString(spec.batchSize()));
    settings.put("executor", spec.executor().describe());
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

  private static double max(double[] values) {
    double best = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      best = Math.max(best, v);
    }
    return best;
  }
}
