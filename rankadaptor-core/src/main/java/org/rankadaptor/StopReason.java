package org.rankadaptor;

/**
 * Why a search stopped exploring.
 *
 * @since 0.1.0
 */
public enum StopReason {
  /** The stopping rule held for its patience ({@link SearchResult#stopExplanation()} says which and why). */
  CONVERGED,
  /** The budget of fine-tunes was spent (less what the confirmation stage keeps back). */
  EVALUATION_BUDGET,
  /** The wall-time budget was spent. */
  TIME_BUDGET,
  /** Every configuration of the space has been evaluated. */
  SPACE_EXHAUSTED
}
