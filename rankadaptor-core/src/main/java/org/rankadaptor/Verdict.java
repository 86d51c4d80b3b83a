package org.rankadaptor;

/**
 * How a configuration compares with the baseline over paired recovery seeds.
 *
 * @since 0.1.0
 */
public enum Verdict {
  /** The confidence interval of the paired difference lies above zero. */
  BETTER,
  /** The confidence interval of the paired difference contains zero. */
  NO_DETECTABLE_DIFFERENCE,
  /** The confidence interval of the paired difference lies below zero. */
  WORSE
}
