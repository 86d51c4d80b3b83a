package org.rankadaptor.dl4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.rankadaptor.Evaluator;
import org.rankadaptor.Observation;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.RecoveryRunner;
import org.rankadaptor.SearchResult;
import org.rankadaptor.dl4j.recover.AdaLoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.dl4j.recover.RecoveryBaselines;

/**
 * What a {@link PrunedModelSearch} compares its choice with, after the searches: the baselines on the
 * target ({@link RecoveryBaselines} by name, then AdaLoRA's best runner there), and every method's
 * configuration on every held-out task with each of that task's recovery seeds. Every measurement goes
 * through {@link StoredMeasurements}, so a rerun over the same store makes none of them again. One object
 * serves one run: it remembers which AdaLoRA runner the target chose.
 */
final class Comparisons {

  private final CachingRecoveryRunner runner;
  private final StoredMeasurements measurements;
  private final Evaluator<RecoveredModel> target;
  private final RankSpace space;
  private final long recoverySeed;
  private final List<String> baselineNames;
  private final List<AdaLoraRecoveryRunner> adaLoraCandidates; // empty: AdaLoRA is not compared
  private AdaLoraRecoveryRunner adaLora; // the candidate chosen on the target
  private final List<Evaluator<RecoveredModel>> heldOut;
  private final Map<String, long[]> heldOutTaskSeeds; // by task id; absent: heldOutSeeds
  private final long[] heldOutSeeds;

  Comparisons(CachingRecoveryRunner runner, StoredMeasurements measurements, Evaluator<RecoveredModel> target,
      RankSpace space, long recoverySeed, List<String> baselineNames, List<AdaLoraRecoveryRunner> adaLoraCandidates,
      List<Evaluator<RecoveredModel>> heldOut, Map<String, long[]> heldOutTaskSeeds, long[] heldOutSeeds) {
    this.runner = runner;
    this.measurements = measurements;
    this.target = target;
    this.space = space;
    this.recoverySeed = recoverySeed;
    this.baselineNames = List.copyOf(baselineNames);
    this.adaLoraCandidates = List.copyOf(adaLoraCandidates);
    this.heldOut = List.copyOf(heldOut);
    this.heldOutTaskSeeds = Map.copyOf(heldOutTaskSeeds);
    this.heldOutSeeds = heldOutSeeds.clone();
  }

  /**
   * The baselines measured on the target, by name in the order given, then {@link PrunedModelSearch#ADALORA}
   * when AdaLoRA is compared: of its runners, the one that scores best on the target (a failed recovery
   * counts only when every one failed).
   */
  Map<String, Observation> baselines() {
    Map<String, Observation> out = new LinkedHashMap<>();
    for (String name : baselineNames) {
      RankConfig config = RecoveryBaselines.byName(name, space);
      out.put(name, measurements.measure(runner, config, List.of(target), "baseline:" + name, recoverySeed, null)
          .get(0));
    }
    Observation adaLoraChoice = null;
    for (AdaLoraRecoveryRunner candidate : adaLoraCandidates) {
      Observation o = measurements.measure(candidate, candidate.initialRanks(), List.of(target),
          "baseline:" + PrunedModelSearch.ADALORA, recoverySeed, null).get(0);
      if (adaLoraChoice == null || (o.succeeded() && (!adaLoraChoice.succeeded() || o.score() > adaLoraChoice.score()))) {
        adaLoraChoice = o;
        adaLora = candidate;
      }
    }
    if (adaLoraChoice != null) {
      out.put(PrunedModelSearch.ADALORA, adaLoraChoice);
    }
    return out;
  }

  /**
   * Every method's configuration (the search's best, the paper's protocol's, random search's, each
   * baseline's) measured on every held-out task with every held-out recovery seed; a configuration two
   * methods share is measured once. {@code best} is the search's recovered best, measured without a new
   * recovery.
   */
  List<HeldOutMeasurement> heldOut(SearchResult search, RecoveredModel best, Optional<SearchResult> random,
      Optional<SearchResult> paper, Map<String, Observation> baselines) {
    if (heldOut.isEmpty()) {
      return List.of();
    }
    Map<String, RankConfig> methods = new LinkedHashMap<>();
    methods.put(PrunedModelSearch.RANKADAPTOR, search.best());
    paper.ifPresent(r -> methods.put(PrunedModelSearch.RANKADAPTOR_PAPER, r.best()));
    random.ifPresent(r -> methods.put(PrunedModelSearch.RANDOM_SEARCH, r.best()));
    baselines.forEach((name, o) -> methods.put(name, o.config()));
    List<HeldOutMeasurement> out = new ArrayList<>();
    for (long heldOutSeed : allHeldOutSeeds()) {
      List<Evaluator<RecoveredModel>> tasks = heldOut.stream()
          .filter(e -> Arrays.stream(seedsOf(e)).anyMatch(x -> x == heldOutSeed)).toList();
      for (Map.Entry<String, RankConfig> method : methods.entrySet()) {
        RecoveryRunner<RecoveredModel> methodRunner =
            method.getKey().equals(PrunedModelSearch.ADALORA) ? adaLora : runner;
        List<Observation> observations = measurements.measure(methodRunner, method.getValue(), tasks,
            "heldout:" + method.getKey(), heldOutSeed, best);
        for (Observation o : observations) {
          out.add(new HeldOutMeasurement(method.getKey(), method.getValue(), heldOutSeed, o));
        }
      }
    }
    return out;
  }

  /** Each held-out task's fingerprint and seeds, by task id in the order given: for the provenance. */
  Map<String, RunProvenance.HeldOutTask> heldOutTasks() {
    Map<String, RunProvenance.HeldOutTask> out = new LinkedHashMap<>();
    for (Evaluator<RecoveredModel> evaluator : heldOut) {
      out.put(evaluator.taskId(), new RunProvenance.HeldOutTask(evaluator.fingerprint(),
          Arrays.stream(seedsOf(evaluator)).boxed().toList()));
    }
    return out;
  }

  /** The default recovery seeds of held-out measurements. */
  List<Long> defaultHeldOutSeeds() {
    return Arrays.stream(heldOutSeeds).boxed().toList();
  }

  private long[] seedsOf(Evaluator<RecoveredModel> task) {
    return heldOutTaskSeeds.getOrDefault(task.taskId(), heldOutSeeds);
  }

  /** The default held-out seeds, then those only some tasks have, in the order given. */
  private long[] allHeldOutSeeds() {
    Set<Long> all = new LinkedHashSet<>();
    Arrays.stream(heldOutSeeds).forEach(all::add);
    heldOut.forEach(e -> Arrays.stream(seedsOf(e)).forEach(all::add));
    return all.stream().mapToLong(Long::longValue).toArray();
  }
}
