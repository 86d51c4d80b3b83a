package org.rankadaptor;

import com.google.common.base.Stopwatch;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
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
import org.rankadaptor.SearchLedger.Key;
import org.rankadaptor.SearchLedger.Planned;
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

  private final SearchSpec<M> spec;
  private final boolean randomBaseline;
  private final RankSpace space;
  private final PerformanceModel model; // null for random search
  private final String taskId;
  private final long primarySeed;
  private final Stopwatch clock = Stopwatch.createStarted();
  private final SearchLedger<M> ledger;
  private final ConfirmationPlan<M> plan; // null for random search
  private final List<IterationRecord> trace; // the ledger's, read here for the budget
  private final List<RankConfig> failuresNotTaught = new ArrayList<>(); // primary-seed failures the model lacks
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
    this.ledger = new SearchLedger<>(spec);
    this.trace = ledger.trace();
    this.plan = randomBaseline ? null : new ConfirmationPlan<>(spec, ledger, model);
  }

  SearchResult run() {
    phase(SearchPhase.INITIALIZATION);
    log.info("search on task {}: space {}, {} stored evaluations reusable", taskId, space.describe(), ledger.reusable());
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
      int left = plan.explorationLeft();
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
      int exploration = plan.explorationLeft(); // nothing below changes it before the batch runs
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
          new StoppingRule.Context(last, ledger.noise(), plan.incumbentPredicted(), predictions);
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
    Map<String, List<Observation>> sources = SourceTasks.select(spec.store(), spec.sourceTasks(), taskId, space);
    if (sources.isEmpty()) {
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
    if (!spec.stoppingRule().needsNoise() || ledger.noise().isPresent() || spec.replicateSeeds().isEmpty()) {
      return;
    }
    List<RankConfig> pair = new ArrayList<>();
    spec.anchor().filter(ledger::succeededWithPrimarySeed).ifPresent(pair::add);
    for (RankConfig c : plan.ranked()) {
      if (pair.size() == 2) {
        break;
      }
      if (!pair.contains(c)) {
        pair.add(c);
      }
    }
    long seed = spec.replicateSeeds().get(0);
    List<RankConfig> missing = pair.stream().filter(c -> !ledger.attempted(c, seed)).toList();
    if (pair.size() < 2 || trace.size() + missing.size() > spec.maxEvaluations()) {
      return;
    }
    List<Planned> planned = missing.stream()
        .map(c -> Planned.unpredicted(c, seed, SearchPhase.CONFIRMATION)).toList();
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
    List<RankConfig> contenders = plan.contenders();
    List<Long> seeds = spec.replicateSeeds().subList(0, spec.confirmationSeeds());
    List<Planned> pending = new ArrayList<>();
    for (long seed : seeds) {
      for (RankConfig c : contenders) {
        if (!ledger.attempted(c, seed)) {
          pending.add(Planned.unpredicted(c, seed, SearchPhase.CONFIRMATION));
        }
      }
    }
    while (!pending.isEmpty() && trace.size() < spec.maxEvaluations() && !timeSpent()) {
      int size = Math.min(pending.size(), Math.min(spec.batchSize(), spec.maxEvaluations() - trace.size()));
      evaluate(pending.subList(0, size));
      pending = pending.subList(size, pending.size());
    }
    Confirmation confirmation = ConfirmationStage.decide(contenders, primarySeed, seeds, ledger.scores(),
        ledger::attempted, spec.anchor(), space, spec.confidence(), taskId);
    log.info("confirmation: {}", confirmation.reason());
    return confirmation;
  }

  /** The iteration's candidates: a seeded sample (or the whole space when small), unevaluated, distinct. */
  private List<RankConfig> candidates(SplittableRandom random, int count) {
    BigInteger size = space.size();
    Set<RankConfig> out = new LinkedHashSet<>();
    if (size.compareTo(BigInteger.valueOf(Math.min(count, RankSpace.ENUMERATION_LIMIT))) <= 0) {
      out.addAll(space.enumerate());
    } else {
      int local = randomBaseline ? 0 : (int) Math.round(count * spec.localCandidateFraction());
      List<RankConfig> parents = ledger.bestEvaluated(LOCAL_PARENTS);
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
    out.removeAll(ledger.evaluated().keySet());
    return new ArrayList<>(out);
  }

  /**
   * Runs a batch through the ledger, then teaches the model the primary-seed successes (and, once they
   * give the penalty a scale, the failures) before the batch is recorded, so that listeners see a model
   * that knows the batch.
   */
  private List<IterationRecord> evaluate(List<Planned> batch) {
    SearchLedger.Outcomes outcomes = ledger.run(batch);
    if (model != null) {
      List<Observation> taught = new ArrayList<>();
      for (Planned p : batch) {
        Observation observation = outcomes.observations().get(new Key(p.config(), p.seed()));
        if (p.seed() != primarySeed) {
          continue;
        }
        if (observation.succeeded()) {
          taught.add(observation);
        } else {
          failuresNotTaught.add(p.config());
        }
      }
      if (!taught.isEmpty()) {
        model.update(taught);
      }
      teachFailures();
    }
    return ledger.record(batch, outcomes, streak);
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
    double[] successes = ledger.evaluated().values().stream().filter(Observation::succeeded)
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
      best = ledger.evaluated().values().stream()
          .filter(Observation::succeeded)
          .max(Comparator.comparingDouble(Observation::score))
          .map(Observation::config)
          .orElseThrow(() -> new RankAdaptorException(
              "the search on " + taskId + " stopped (" + reason + ") without a single successful evaluation"));
    }
    Observation bestObservation = Objects.requireNonNull(ledger.evaluated().get(best), "no primary observation of the best");
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
    SearchResult result = new SearchResult(best, bestObservation, trace, reason, explanation, ledger.newEvaluations(),
        clock.elapsed(), provenance, confirmation, randomBaseline ? OptionalDouble.empty() : ledger.noise());
    log.info("search on {} finished ({}): best {} with {} after {} fine-tunes ({} new)",
        taskId, reason, best, result.bestScore(), trace.size(), ledger.newEvaluations());
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
}
