package org.rankadaptor;

import com.google.common.collect.ImmutableSortedMap;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One real recovery and evaluation of a rank configuration on a task, or its failure.
 *
 * @param taskId the task the score belongs to (an {@link Evaluator#taskId()})
 * @param config the rank configuration that was recovered
 * @param status whether recovery and evaluation succeeded
 * @param score the measured score (higher is better); {@code NaN} when failed
 * @param metrics the individual metrics behind the score; empty when failed
 * @param costSeconds wall time of recovery plus evaluation
 * @param provenance seed, fingerprints and settings of the run
 * @param failure why it failed; empty when it succeeded
 * @param recordedAt when the observation was made
 * @since 0.1.0
 * @serial exclude serialised only to ship work between processes of one version (Spark)
 */
public record Observation(
    String taskId,
    RankConfig config,
    Status status,
    double score,
    Map<String, Double> metrics,
    double costSeconds,
    Provenance provenance,
    String failure,
    Instant recordedAt) implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  /** Outcome of a recovery and evaluation. */
  public enum Status {
    /** Recovered and evaluated; the score is a measurement. */
    SUCCEEDED,
    /** The recovery diverged or the evaluation could not be made; {@code failure} says why. */
    FAILED
  }

  /** Checks the identity fields and that a success has a finite score; copies the maps. */
  public Observation {
    Objects.requireNonNull(taskId, "taskId");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(provenance, "provenance");
    Objects.requireNonNull(recordedAt, "recordedAt");
    if (taskId.isBlank()) {
      throw new IllegalArgumentException("task id must not be blank");
    }
    if (status == Status.SUCCEEDED && !Double.isFinite(score)) {
      throw new IllegalArgumentException("a succeeded observation needs a finite score, got " + score);
    }
    metrics = metrics == null ? ImmutableSortedMap.of() : ImmutableSortedMap.copyOf(metrics);
    failure = failure == null ? "" : failure;
  }

  /** A successful measurement. */
  public static Observation succeeded(
      String taskId, RankConfig config, Evaluation evaluation, double costSeconds, Provenance provenance) {
    return new Observation(
        taskId, config, Status.SUCCEEDED, evaluation.score(), evaluation.metrics(), costSeconds, provenance, "",
        Instant.now());
  }

  /** A failed recovery or evaluation, kept so that the search does not try it again. */
  public static Observation failed(
      String taskId, RankConfig config, String failure, double costSeconds, Provenance provenance) {
    return new Observation(
        taskId, config, Status.FAILED, Double.NaN, Map.of(), costSeconds, provenance, failure, Instant.now());
  }

  /** Whether the score is a real measurement. */
  public boolean succeeded() {
    return status == Status.SUCCEEDED;
  }
}
