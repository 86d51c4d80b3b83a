package org.rankadaptor;

import com.google.common.collect.ImmutableList;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The outcome of a search.
 *
 * @param best the configuration the search recommends: the best paired mean of its confirmation stage
 *     (or the cheaper of it and the anchor when they cannot be told apart), else the best single
 *     measurement
 * @param bestObservation its observation with the primary recovery seed
 * @param trace every fine-tune, in order
 * @param stopReason why exploration stopped
 * @param stopExplanation which rule or budget stopped it, and the numbers behind it
 * @param newEvaluations recoveries run by this call (the rest of the trace was reused from the store)
 * @param elapsed wall time of this call
 * @param provenance seed and settings of the search
 * @param confirmation the confirmation stage's finalists, comparison with the anchor and reasoning;
 *     empty when the search had no confirmation stage
 * @param noiseStd the measured standard deviation of one fine-tune's score around its configuration's
 *     mean, paired by seed; empty when no configuration was measured with two seeds
 * @since 0.1.0
 */
public record SearchResult(
    RankConfig best,
    Observation bestObservation,
    List<IterationRecord> trace,
    StopReason stopReason,
    String stopExplanation,
    int newEvaluations,
    Duration elapsed,
    Provenance provenance,
    Optional<Confirmation> confirmation,
    OptionalDouble noiseStd) {

  /** Copies the trace. */
  public SearchResult {
    trace = ImmutableList.copyOf(trace);
    Objects.requireNonNull(confirmation, "confirmation");
    Objects.requireNonNull(noiseStd, "noiseStd");
  }

  /** The recommended configuration's score: its mean over the confirmation seeds, else its one measurement. */
  public double bestScore() {
    return confirmation.flatMap(c -> c.finalists().stream().filter(f -> f.config().equals(best)).findFirst())
        .map(Finalist::mean)
        .orElse(bestObservation.score());
  }

  /** The verdict against the anchor, when the confirmation stage made one. */
  public Optional<Verdict> verdict() {
    return confirmation.flatMap(Confirmation::verdict);
  }

  /** Fine-tunes whose recovery or evaluation failed (each recorded in the store with its reason). */
  public int failures() {
    return (int) trace.stream().filter(r -> !r.observation().succeeded()).count();
  }

  /** Fine-tunes in the trace (new or reused from the store): what the budget counts. */
  public int fineTunes() {
    return trace.size();
  }
}
