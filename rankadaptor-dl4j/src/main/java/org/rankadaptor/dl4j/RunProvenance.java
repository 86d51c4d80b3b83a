package org.rankadaptor.dl4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.google.common.collect.ImmutableMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.rankadaptor.Provenance;
import org.rankadaptor.dl4j.predictor.PredictorProvenance;
import org.rankadaptor.dl4j.recover.RecoveryProvenance;
import org.rankadaptor.dl4j.runtime.EnvironmentProvenance;

/**
 * How a {@link PrunedModelSearch} run was made: the contents of its {@code provenance.json}
 * ({@link RunFolder#PROVENANCE_FILE}), nested from the records each component returns for itself (the
 * recovery runner's {@link RecoveryProvenance}, the performance model's {@link PredictorProvenance}, the
 * {@link EnvironmentProvenance}) and the run's own seeds, tasks and fingerprints. Serialised by Jackson
 * field by field and read back equal ({@link RunFolder#readProvenance()}).
 *
 * @param search the core search's provenance: seed, the runner's and the target's fingerprints as the
 *     observation store matches them, and the search's settings
 * @param targetTask the target task's id
 * @param targetFingerprint the target evaluator's fingerprint
 * @param sources each source task's evaluator fingerprint, by task id, in the order given
 * @param heldOut each held-out task's fingerprint and recovery seeds, by task id, in the order given
 * @param heldOutRecoverySeeds the default recovery seeds of held-out measurements
 * @param sourceConfigurations the configurations recovered for meta-learning, in the order drawn
 * @param sourceObservations successful source-task observations the meta-learning could draw on
 * @param recoverySeed the seed of every recovery of the search
 * @param recovery the recovery runner's own provenance; null when the runner is no {@code
 *     LoraRecoveryRunner} or {@code AdaLoraRecoveryRunner} (its fingerprint is then in {@code search} alone)
 * @param performanceModel the performance model's provenance, as it stood when the search ended
 * @param recoveriesThisRun recoveries this run made (0 when everything came from the store)
 * @param store the observation store's file, or {@code (in memory)}
 * @param environment library, Java and ND4J versions, operating system, architecture and BLAS set-up
 * @param pruning the pruning report (such as {@code PruningReport.toJson()}), JSON null when none was given
 * @param settings further settings the caller recorded (data files, command-line options), sorted by key
 * @since 0.1.0
 */
public record RunProvenance(
    Provenance search,
    String targetTask,
    String targetFingerprint,
    Map<String, String> sources,
    Map<String, HeldOutTask> heldOut,
    List<Long> heldOutRecoverySeeds,
    List<String> sourceConfigurations,
    int sourceObservations,
    long recoverySeed,
    RecoveryProvenance recovery,
    PredictorProvenance performanceModel,
    int recoveriesThisRun,
    String store,
    EnvironmentProvenance environment,
    JsonNode pruning,
    Map<String, String> settings) {

  /** Copies the collections, keeping their order; a missing pruning report becomes JSON null. */
  public RunProvenance {
    Objects.requireNonNull(search, "search");
    Objects.requireNonNull(targetTask, "targetTask");
    Objects.requireNonNull(performanceModel, "performanceModel");
    Objects.requireNonNull(environment, "environment");
    sources = ImmutableMap.copyOf(sources);
    heldOut = ImmutableMap.copyOf(heldOut);
    heldOutRecoverySeeds = List.copyOf(heldOutRecoverySeeds);
    sourceConfigurations = List.copyOf(sourceConfigurations);
    pruning = pruning == null ? NullNode.getInstance() : pruning.deepCopy();
    settings = ImmutableMap.copyOf(settings);
  }

  /** The pruning report, a copy: a JSON tree is mutable, and this record is not. */
  @Override
  public JsonNode pruning() {
    return pruning.deepCopy();
  }

  /**
   * A held-out task of the run.
   *
   * @param fingerprint the task's evaluator fingerprint
   * @param recoverySeeds the recovery seeds its measurements used
   * @since 0.1.0
   */
  public record HeldOutTask(String fingerprint, List<Long> recoverySeeds) {

    /** Copies the seeds. */
    public HeldOutTask {
      Objects.requireNonNull(fingerprint, "fingerprint");
      recoverySeeds = List.copyOf(recoverySeeds);
    }
  }
}
