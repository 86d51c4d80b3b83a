package org.rankadaptor;

import com.google.common.collect.ImmutableSortedMap;
import java.util.Map;

/**
 * What an {@link Evaluator} measured: one score that the search maximises, and the individual metrics
 * it was made of (for example {@code piqa/acc}, {@code arc_challenge/acc_norm}, {@code wikitext/ppl}).
 *
 * @param score higher is better; finite
 * @param metrics named metric values, sorted by name
 * @since 0.1.0
 */
public record Evaluation(double score, Map<String, Double> metrics) {

  /** Checks that the score is finite; copies the metrics, sorted. */
  public Evaluation {
    if (!Double.isFinite(score)) {
      throw new IllegalArgumentException("an evaluation score must be finite, got " + score);
    }
    metrics = metrics == null ? ImmutableSortedMap.of() : ImmutableSortedMap.copyOf(metrics);
  }

  /** An evaluation with a score only. */
  public static Evaluation of(double score) {
    return new Evaluation(score, Map.of());
  }
}
