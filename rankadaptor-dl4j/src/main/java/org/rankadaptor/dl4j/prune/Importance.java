package org.rankadaptor.dl4j.prune;

/**
 * How {@link WidthPruner} scores a removable unit (a key/value head group or an MLP channel). The
 * gradient-based criteria follow LLM-Pruner: {@code g} is the gradient of the mean next-token loss over
 * the calibration samples, and a unit's score in one of its coupled matrices is taken over the unit's
 * rows (or columns) of that matrix; {@link GroupReduction} then combines the matrices' scores.
 *
 * @since 0.1.0
 */
public enum Importance {
  /** First-order Taylor, element-wise: the sum of {@code |W * g|} over the unit's weights. */
  ELEMENT1(true),
  /**
   * Second-order Taylor, element-wise: the sum of {@code |W*g - 0.5 * W * F * W|} with {@code F} the
   * diagonal Fisher estimate {@code sum_j g_j^2 / N} from one backward pass per calibration sample.
   */
  ELEMENT2(true),
  /** First-order Taylor, vector-wise: {@code |sum of W * g|} over the unit's weights of one matrix. */
  VECTOR(true),
  /** Magnitude baseline: the L2 norm of the unit's weights in one matrix; needs no calibration. */
  L2(false),
  /** Baseline: a seeded uniform random score per unit; needs no calibration. */
  RANDOM(false);

  private final boolean needsGradients;

  Importance(boolean needsGradients) {
    this.needsGradients = needsGradients;
  }

  /** Whether the criterion needs calibration samples and a backward pass. */
  public boolean needsGradients() {
    return needsGradients;
  }
}
