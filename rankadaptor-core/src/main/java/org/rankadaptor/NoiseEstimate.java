package org.rankadaptor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The noise of one measurement, estimated from configurations measured with more than one recovery
 * seed. Scores are modelled as {@code mean(config) + shift(seed) + e}: a seed moves every configuration
 * alike (the shift, which paired comparisons cancel) plus a term of its own with standard deviation
 * sigma. For each replicate seed, the differences {@code score(c, seed) - score(c, primary)} over the
 * configurations measured with both have variance {@code 2 sigma^2} around their mean; their pooled
 * sample variance, halved, estimates {@code sigma^2}.
 */
final class NoiseEstimate {
  private NoiseEstimate() {}

  /**
   * @param scores successful scores per configuration and recovery seed
   * @param primarySeed the seed every configuration is first measured with
   * @return sigma, or empty while no seed has two configurations measured with it and the primary seed
   */
  static OptionalDouble sigma(Map<RankConfig, Map<Long, Double>> scores, long primarySeed) {
    Map<Long, List<Double>> differences = new java.util.TreeMap<>();
    for (Map<Long, Double> bySeed : scores.values()) {
      Double primary = bySeed.get(primarySeed);
      if (primary == null) {
        continue;
      }
      bySeed.forEach((seed, score) -> {
        if (seed != primarySeed) {
          differences.computeIfAbsent(seed, s -> new ArrayList<>()).add(score - primary);
        }
      });
    }
    double ss = 0;
    int df = 0;
    for (List<Double> d : differences.values()) {
      if (d.size() < 2) {
        continue;
      }
      double mean = d.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
      for (double v : d) {
        ss += (v - mean) * (v - mean);
      }
      df += d.size() - 1;
    }
    return df == 0 ? OptionalDouble.empty() : OptionalDouble.of(Math.sqrt(ss / df / 2));
  }
}
