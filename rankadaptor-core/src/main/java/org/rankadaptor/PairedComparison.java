package org.rankadaptor;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.List;
import java.util.Locale;
import org.apache.commons.math3.distribution.TDistribution;

/**
 * A configuration against a baseline over the recovery seeds both were measured with: the mean of the
 * per-seed differences (configuration minus baseline, higher is better), its standard error, and a
 * Student-t confidence interval. Pairing removes what a seed shifts for every configuration alike
 * (adapter initialisation and data order), which on a small model is most of the spread.
 *
 * @param config the configuration compared
 * @param baseline the baseline it is compared with
 * @param seeds the recovery seeds both were measured with
 * @param meanDifference mean of {@code score(config, seed) - score(baseline, seed)}
 * @param standardError standard error of that mean
 * @param lower lower end of the confidence interval
 * @param upper upper end of the confidence interval
 * @param confidence the interval's two-sided confidence level, after any adjustment for multiple
 *     comparisons
 * @param verdict {@link Verdict#BETTER} when the interval lies above 0, {@link Verdict#WORSE} below,
 *     otherwise {@link Verdict#NO_DETECTABLE_DIFFERENCE}
 * @since 0.1.0
 */
public record PairedComparison(
    RankConfig config,
    RankConfig baseline,
    List<Long> seeds,
    double meanDifference,
    double standardError,
    double lower,
    double upper,
    double confidence,
    Verdict verdict) {

  /** Copies the seeds. */
  public PairedComparison {
    seeds = List.copyOf(seeds);
  }

  /**
   * Compares paired scores.
   *
   * @param differences per seed, {@code score(config) - score(baseline)}; at least two
   * @param confidence two-sided confidence level in (0, 1)
   */
  public static PairedComparison of(RankConfig config, RankConfig baseline, List<Long> seeds, double[] differences,
      double confidence) {
    checkArgument(differences.length == seeds.size(), "%s differences for %s seeds", differences.length, seeds.size());
    checkArgument(differences.length >= 2, "a paired comparison needs at least two seeds, got %s", differences.length);
    checkArgument(confidence > 0 && confidence < 1, "confidence must be in (0, 1), got %s", confidence);
    int n = differences.length;
    double mean = 0;
    for (double d : differences) {
      mean += d / n;
    }
    double ss = 0;
    for (double d : differences) {
      ss += (d - mean) * (d - mean);
    }
    double se = Math.sqrt(ss / (n - 1) / n);
    double t = new TDistribution(null, n - 1).inverseCumulativeProbability(1 - (1 - confidence) / 2);
    double lower = mean - t * se;
    double upper = mean + t * se;
    Verdict verdict = lower > 0 ? Verdict.BETTER : upper < 0 ? Verdict.WORSE : Verdict.NO_DETECTABLE_DIFFERENCE;
    return new PairedComparison(config, baseline, seeds, mean, se, lower, upper, confidence, verdict);
  }

  /** For logs and reports: {@code +0.0123 [-0.0040, +0.0286] (95 % CI, 3 seeds): no detectable difference}. */
  public String describe() {
    return String.format(Locale.ROOT, "%+.4f [%+.4f, %+.4f] (%.1f %% CI, %d seeds): %s", meanDifference, lower, upper,
        100 * confidence, seeds.size(), verdict.name().toLowerCase(Locale.ROOT).replace('_', ' '));
  }
}
