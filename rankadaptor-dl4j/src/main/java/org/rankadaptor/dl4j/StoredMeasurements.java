package org.rankadaptor.dl4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.rankadaptor.Evaluator;
import org.rankadaptor.Observation;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RecoveryFailedException;
import org.rankadaptor.RecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;

/**
 * The measurements a {@link PrunedModelSearch} makes besides the search's own (source tasks, baselines,
 * held-out tasks): each is taken from the store when an observation of the same task, configuration,
 * recovery seed and fingerprints is there, and otherwise recovered, measured and appended at once, so
 * a rerun over the same store makes none of them again.
 */
final class StoredMeasurements {

  private final ObservationStore store;
  private final CachingRecoveryRunner runner;
  private final long searchSeed;
  private final long recoverySeed;
  private int otherRecoveries; // recoveries by runners other than the search's (AdaLoRA)

  StoredMeasurements(ObservationStore store, CachingRecoveryRunner runner, long searchSeed, long recoverySeed) {
    this.store = store;
    this.runner = runner;
    this.searchSeed = searchSeed;
    this.recoverySeed = recoverySeed;
  }

  /**
   * Observations of {@code config} recovered by {@code recoveries} with {@code seed} on each evaluator's
   * task, from the store when there, otherwise from one recovery ({@code available} when it is that
   * configuration and seed) measured on every task still missing (and appended to the store). What the
   * recovery learned beyond its configuration (AdaLoRA's ranks) and its adapters' size go into the
   * observation's provenance.
   */
  List<Observation> measure(RecoveryRunner<RecoveredModel> recoveries, RankConfig config,
      List<Evaluator<RecoveredModel>> evaluators, String role, long seed, RecoveredModel available) {
    List<Observation> out = new ArrayList<>();
    RecoveredModel recovered = null;
    RecoveryFailedException failure = null;
    try {
      for (Evaluator<RecoveredModel> evaluator : evaluators) {
        Optional<Observation> stored = stored(recoveries, evaluator, config, seed);
        if (stored.isPresent()) {
          out.add(stored.get());
          continue;
        }
        long start = System.nanoTime();
        if (recovered == null && failure == null) {
          if (available != null && recoveries == runner && available.config().equals(config) && seed == recoverySeed) {
            recovered = available;
          } else {
            try {
              if (recoveries != runner) {
                otherRecoveries++; // the caching runner counts its own
              }
              recovered = recoveries.recover(config, seed);
            } catch (RecoveryFailedException e) {
              failure = e;
            }
          }
        }
        Map<String, String> settings = new TreeMap<>(Map.of("search.seed", Long.toString(searchSeed), "role", role));
        if (recovered != null) {
          settings.put("adapterParameters", Long.toString(recovered.adapters().parameterCount()));
          for (String learned : List.of("learnedRanks", "layerRanks", "lr")) {
            String value = recovered.provenance().settings().get(learned);
            if (value != null) {
              settings.put(learned, value);
            }
          }
        }
        Provenance provenance = new Provenance(seed, recoveries.fingerprint(), evaluator.fingerprint(), settings);
        Observation observation = failure != null
            ? Observation.failed(evaluator.taskId(), config, failure.getMessage(), seconds(start), provenance)
            : Observation.succeeded(evaluator.taskId(), config, evaluator.evaluate(recovered), seconds(start),
                provenance);
        store.append(observation);
        out.add(observation);
      }
    } finally {
      if (recovered != null && recovered != available) {
        recoveries.release(recovered); // the caching runner counts its users
      }
    }
    return out;
  }

  /** Recoveries made through this object, by every runner. */
  int recoveries() {
    return runner.recoveries() + otherRecoveries;
  }

  private Optional<Observation> stored(RecoveryRunner<RecoveredModel> recoveries, Evaluator<RecoveredModel> evaluator,
      RankConfig config, long seed) {
    String runnerPrint = recoveries.fingerprint();
    String dataPrint = evaluator.fingerprint();
    return store.forTask(evaluator.taskId()).stream()
        .filter(o -> o.config().equals(config)
            && o.provenance().seed() == seed
            && o.provenance().modelFingerprint().equals(runnerPrint)
            && o.provenance().dataFingerprint().equals(dataPrint))
        .findFirst();
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
