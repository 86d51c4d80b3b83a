package org.rankadaptor;

/** The three phases of a RankAdaptor search. */
public enum SearchPhase {
  /** Offline meta-learning on the source tasks and optional seeded warm-up evaluations. */
  INITIALIZATION,
  /** Sample, predict, recover the best candidate for real, feed the result back. */
  ITERATION,
  /** Predicted and measured scores agreed, or a budget was spent. */
  CONVERGENCE
}
