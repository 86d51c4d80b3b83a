package org.rankadaptor;

import com.google.common.base.Stopwatch;
import java.io.Serializable;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One recovery of a rank configuration with one recovery seed, followed by its evaluation: the unit of
 * work a search hands to its {@link EvaluationExecutor}. Serializable, so that a distributed executor can
 * ship it to the machine that runs it.
 *
 * @param taskId the task the evaluation scores (the search's {@link Evaluator#taskId()})
 * @param config the ranks to recover with
 * @param seed the recovery seed
 * @param provenance what the observation will record: the seed, the fingerprints of the searching
 *     process's runner and evaluator, and the search's settings (seed, phase, position in the trace)
 * @since 0.1.0
 * @serial exclude serialised only to ship work between processes of one version (Spark)
 */
public record FineTune(String taskId, RankConfig config, long seed, Provenance provenance) implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger log = LoggerFactory.getLogger(FineTune.class);

  /** Checks that nothing is missing and that the provenance carries the fine-tune's seed. */
  public FineTune {
    Objects.requireNonNull(taskId, "taskId");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(provenance, "provenance");
    if (provenance.seed() != seed) {
      throw new IllegalArgumentException("the provenance's seed " + provenance.seed() + " is not the fine-tune's "
          + seed);
    }
  }

  /**
   * Recovers and evaluates, and releases the recovered model. A {@link RecoveryFailedException}, or an
   * evaluation that cannot be made (a NaN score, say), is a result about this configuration: returned as a
   * failed observation. Any other exception of the runner propagates.
   */
  public <M> Observation run(RecoveryRunner<M> runner, Evaluator<M> evaluator) {
    Stopwatch watch = Stopwatch.createStarted();
    M recovered;
    try {
      recovered = runner.recover(config, seed);
    } catch (RecoveryFailedException e) {
      log.warn("recovery of {} with seed {} failed: {}", config, seed, e.getMessage());
      return Observation.failed(taskId, config, e.getMessage(), seconds(watch), provenance);
    }
    try {
      Evaluation evaluation = evaluator.evaluate(recovered);
      return Observation.succeeded(taskId, config, evaluation, seconds(watch), provenance);
    } catch (RuntimeException e) {
      // Recorded, so that a rerun does not stop at the same place.
      String why = "evaluation failed: " + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName());
      log.warn("evaluation of {} with seed {} failed: {}", config, seed, why);
      return Observation.failed(taskId, config, why, seconds(watch), provenance);
    } finally {
      runner.release(recovered);
    }
  }

  private static double seconds(Stopwatch watch) {
    return watch.elapsed(TimeUnit.NANOSECONDS) / 1e9;
  }
}
