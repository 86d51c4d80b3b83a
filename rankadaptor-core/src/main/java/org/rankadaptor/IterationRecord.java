package org.rankadaptor;

/**
 * One fine-tune in a search's trace.
 *
 * @param index position in the trace, from 0
 * @param batch the batch it belonged to, from 0: the fine-tunes of a batch were chosen together and run
 *     at once (see {@link SearchSpec#batchSize()}); with batches of one it counts the fine-tunes
 * @param phase {@link SearchPhase#INITIALIZATION} for the anchor and warm-up, {@link SearchPhase#ITERATION}
 *     for exploration, {@link SearchPhase#CONFIRMATION} for replicates with further recovery seeds (the
 *     first, which measure the noise, may come during exploration)
 * @param config the configuration evaluated
 * @param seed the recovery seed of this fine-tune
 * @param predicted the model's predicted mean before the evaluation ({@code NaN} when none was made)
 * @param predictedStd the model's standard deviation, or {@code NaN}
 * @param observation what was measured (possibly a failure)
 * @param reused whether the observation came from the store instead of a new recovery
 * @param ruleStreak consecutive iterations, up to this evaluation, at whose start the stopping rule held
 * @since 0.1.0
 */
public record IterationRecord(
    int index,
    int batch,
    SearchPhase phase,
    RankConfig config,
    long seed,
    double predicted,
    double predictedStd,
    Observation observation,
    boolean reused,
    int ruleStreak) {

  /** {@code |predicted - measured|}, or {@code NaN} when either is missing. */
  public double gap() {
    return observation.succeeded() ? Math.abs(predicted - observation.score()) : Double.NaN;
  }
}
