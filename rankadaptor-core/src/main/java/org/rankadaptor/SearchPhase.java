package org.rankadaptor;

/**
 * The phases of a RankAdaptor search.
 *
 * @since 0.1.0
 */
public enum SearchPhase {
  /** Offline meta-learning on the source tasks, the anchor and optional seeded warm-up evaluations. */
  INITIALIZATION,
  /** Sample, predict, recover the best candidate for real, feed the result back. */
  ITERATION,
  /** The finalists and the anchor evaluated with further paired recovery seeds. */
  CONFIRMATION,
  /** The search has stopped: its stopping rule held, a budget was spent or the space was exhausted. */
  CONVERGENCE
}
