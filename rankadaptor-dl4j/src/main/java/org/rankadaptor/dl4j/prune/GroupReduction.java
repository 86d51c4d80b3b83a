package org.rankadaptor.dl4j.prune;

/**
 * How the scores of one unit in its coupled matrices (query, key, value and output projections for a
 * head group; gate, up and down projections for an MLP channel) combine into the unit's score, as
 * LLM-Pruner's group reductions do.
 *
 * @since 0.1.0
 */
public enum GroupReduction {
  /** The sum of the matrices' scores (LLM-Pruner's default). */
  SUM,
  /** Their mean. */
  MEAN,
  /** Their maximum. */
  MAX,
  /** Their product. */
  PROD;

  /** Combines one unit's per-matrix scores; {@code scores} is not empty. */
  double reduce(double[] scores) {
    double acc = this == PROD ? 1 : this == MAX ? Double.NEGATIVE_INFINITY : 0;
    for (double s : scores) {
      acc = switch (this) {
        case SUM, MEAN -> acc + s;
        case MAX -> Math.max(acc, s);
        case PROD -> acc * s;
      };
    }
    return this == MEAN ? acc / scores.length : acc;
  }
}
