package org.rankadaptor;

import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.util.List;

/**
 * The outcome of a search.
 *
 * @param best the configuration with the highest measured score
 * @param bestObservation its observation
 * @param trace every evaluation, in order
 * @param stopReason why the search stopped
 * @param newEvaluations recoveries run by this call (the rest of the trace was reused from the store)
 * @param elapsed wall time of this call
 * @param provenance seed and settings of the search
 */
public record SearchResult(
    RankConfig best,
    Observation bestObservation,
    List<IterationRecord> trace,
    StopReason stopReason,
    int newEvaluations,
    Duration elapsed,
    Provenance provenance) {

  public SearchResult {
    trace = ImmutableList.copyOf(trace);
  }

  /** The best measured score. */
  public double bestScore() {
    return bestObservation.score();
  }
}
