package org.rankadaptor;

/** Why a search stopped. */
public enum StopReason {
  /** Predicted and measured scores agreed within the threshold for the required iterations. */
  CONVERGED,
  /** The budget of real evaluations was spent. */
  EVALUATION_BUDGET,
  /** The wall-time budget was spent. */
  TIME_BUDGET,
  /** Every configuration of the space has been evaluated. */
  SPACE_EXHAUSTED
}
