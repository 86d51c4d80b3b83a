package org.rankadaptor;

import java.util.Arrays;

/**
 * A cap on the number of trainable LoRA parameters. A layer with rank {@code r} costs
 * {@code r * parametersPerRank[layer]} parameters: for LoRA on a linear map {@code in -> out} one unit
 * of rank costs {@code in + out} (one row of A and one column of B), summed over the adapted modules.
 *
 * @param parametersPerRank per layer, the trainable parameters one unit of rank costs; {@code >= 0}
 * @param maxTrainableParameters the cap, inclusive
 * @since 0.1.0
 */
public record ParameterBudget(long[] parametersPerRank, long maxTrainableParameters) {

  /** Checks the per-rank costs and the cap; copies the costs. */
  public ParameterBudget {
    parametersPerRank = parametersPerRank.clone();
    for (int layer = 0; layer < parametersPerRank.length; layer++) {
      if (parametersPerRank[layer] < 0) {
        throw new IllegalArgumentException(
            "parameters per rank of layer " + layer + " is negative: " + parametersPerRank[layer]);
      }
    }
    if (maxTrainableParameters < 0) {
      throw new IllegalArgumentException("budget is negative: " + maxTrainableParameters);
    }
  }

  /** The trainable parameters of a configuration. */
  public long trainableParameters(RankConfig config) {
    long total = 0;
    for (int layer = 0; layer < parametersPerRank.length; layer++) {
      total += parametersPerRank[layer] * config.rank(layer);
    }
    return total;
  }

  /** Whether the configuration fits the cap. */
  public boolean allows(RankConfig config) {
    return trainableParameters(config) <= maxTrainableParameters;
  }

  /** A copy of the trainable parameters one unit of rank costs in each layer. */
  @Override
  public long[] parametersPerRank() {
    return parametersPerRank.clone();
  }

  long costOf(int layer) {
    return parametersPerRank[layer];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ParameterBudget b
        && maxTrainableParameters == b.maxTrainableParameters
        && Arrays.equals(parametersPerRank, b.parametersPerRank);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(parametersPerRank) + Long.hashCode(maxTrainableParameters);
  }

  @Override
  public String toString() {
    return "ParameterBudget[max=" + maxTrainableParameters + ", perRank=" + Arrays.toString(parametersPerRank) + "]";
  }
}
