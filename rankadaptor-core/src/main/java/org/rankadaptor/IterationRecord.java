package org.rankadaptor;

/**
 * One real evaluation in a search's trace.
 *
 * @param index position in the trace, from 0
 * @param phase {@link SearchPhase#INITIALIZATION} for warm-up evaluations, else {@link SearchPhase#ITERATION}
 * @param config the configuration evaluated
 * @param predicted the model's predicted mean before the evaluation ({@code NaN} when none was made)
 * @param predictedStd the model's standard deviation, or {@code NaN}
 * @param observation what was measured (possibly a failure)
 * @param reused whether the observation came from the store instead of a new recovery
 * @param agreementStreak consecutive iterations, ending here, whose prediction was within the threshold
 */
public record IterationRecord(
    int index,
    SearchPhase phase,
    RankConfig config,
    double predicted,
    double predictedStd,
    Observation observation,
    boolean reused,
    int agreementStreak) {

  /** {@code |predicted - measured|}, or {@code NaN} when either is missing. */
  public double gap() {
    return observation.succeeded() ? Math.abs(predicted - observation.score()) : Double.NaN;
  }
}
