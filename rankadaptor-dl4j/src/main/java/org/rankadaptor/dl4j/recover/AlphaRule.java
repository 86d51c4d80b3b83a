package org.rankadaptor.dl4j.recover;

/**
 * How a layer's LoRA alpha follows from its rank; the adapter's output is scaled by {@code alpha / rank}.
 *
 * @param proportional true: {@code alpha = value * rank}; false: {@code alpha = value} for every rank
 * @param value the factor or the fixed alpha; positive
 * @since 0.1.0
 */
public record AlphaRule(boolean proportional, double value) {

  /** Validates the value. */
  public AlphaRule {
    if (!(value > 0) || !Double.isFinite(value)) {
      throw new IllegalArgumentException("LoRA alpha (or its factor) must be positive and finite, got " + value);
    }
  }

  /**
   * {@code alpha = factor * rank}: the scaling {@code alpha / rank} is {@code factor} at every rank, so
   * layers of different ranks learn at the same pace. {@code timesRank(2)} is PEFT's r 8 / alpha 16 at
   * rank 8, and the default of {@link RecoverySettings}.
   */
  public static AlphaRule timesRank(double factor) {
    return new AlphaRule(true, factor);
  }

  /** The same alpha for every rank, so the scaling {@code alpha / rank} shrinks as the rank grows. */
  public static AlphaRule fixed(double alpha) {
    return new AlphaRule(false, alpha);
  }

  /** Alpha of a layer of this rank. */
  public double alpha(int rank) {
    return proportional ? value * rank : value;
  }

  /** Short text form: {@code 2*rank} or {@code 16}. */
  public String describe() {
    return proportional ? value + "*rank" : Double.toString(value);
  }
}
