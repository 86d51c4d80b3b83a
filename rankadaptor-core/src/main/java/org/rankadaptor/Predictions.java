package org.rankadaptor;

import java.util.Optional;

/**
 * Predicted scores for a batch of configurations: the mean and, when the model can tell, the standard
 * deviation of its belief.
 *
 * @param mean predicted score per candidate
 * @param std standard deviation per candidate, or {@code null} when the model has no uncertainty
 * @since 0.1.0
 */
public record Predictions(double[] mean, double[] std) {

  /** Checks that the standard deviations, when given, match the means in number. */
  public Predictions {
    if (std != null && std.length != mean.length) {
      throw new IllegalArgumentException("mean has " + mean.length + " entries but std has " + std.length);
    }
  }

  /** Predictions without uncertainty. */
  public static Predictions of(double[] mean) {
    return new Predictions(mean, null);
  }

  /** Number of candidates predicted. */
  public int size() {
    return mean.length;
  }

  /** Whether standard deviations were given. */
  public boolean hasUncertainty() {
    return std != null;
  }

  /** The standard deviations, when the model provides them. */
  public Optional<double[]> stdIfPresent() {
    return Optional.ofNullable(std);
  }
}
