package org.rankadaptor.replay;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToLongFunction;
import org.apache.commons.math3.distribution.FDistribution;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;
import org.rankadaptor.PairedComparison;
import org.rankadaptor.RankConfig;
import org.rankadaptor.Verdict;

/**
 * Whether rank allocation matters on a table of recoveries: do the configurations' seed-averaged scores
 * spread further than the recovery seeds' noise alone would spread them?
 *
 * <p>The scores form a configurations x seeds grid (every configuration recovered with the same seeds).
 * A two-way analysis of variance without interaction separates the configuration effect from what a seed
 * shifts for every configuration alike; its residual is the paired seed noise of one recovery. If
 * allocation bought nothing, the seed-averaged means would still spread by that noise over the square root
 * of the seeds; the F test asks whether they spread more, and {@link #allocationSd} estimates by how much.
 * Beside it: how well the seeds agree on the ranking of the configurations (their mean pairwise Spearman
 * correlation, near 0 when the ranking is noise), and each configuration against the reference (uniform
 * rank 8) as a paired comparison.
 *
 * @param task the task the scores are of
 * @param reference the configuration every other is compared with
 * @param seeds the recovery seeds every configuration was measured with
 * @param configs every configuration's mean and comparison, best mean first
 * @param noiseSd the paired seed noise of one recovery's score (residual standard deviation)
 * @param meansSd the standard deviation of the configurations' seed-averaged means
 * @param allocationSd the part of {@code meansSd} beyond noise: sqrt(max(0, meansSd^2 - noiseSd^2 / seeds))
 * @param f the F statistic of the configuration effect
 * @param pValue the probability of an F this large if allocation bought nothing
 * @param seedAgreement mean Spearman correlation between the seeds' rankings of the configurations
 * @param parameterCorrelation Spearman correlation between seed-averaged means and trainable parameters
 * @param referenceRank 1-based place of the reference among the configurations by mean
 * @param atEqualSize the same test after a straight line in trainable parameters is taken out of the means:
 *     whether configurations of the same size differ, which is what allocation within a budget is about
 * @since 0.1.0
 */
public record AllocationSpread(
    String task,
    RankConfig reference,
    List<Long> seeds,
    List<ConfigMean> configs,
    double noiseSd,
    double meansSd,
    double allocationSd,
    double f,
    double pValue,
    double seedAgreement,
    double parameterCorrelation,
    int referenceRank,
    EqualSize atEqualSize) {

  /**
   * What is left of the spread once size is accounted for: the means' residuals from their least-squares
   * line in trainable parameters, tested against the same seed noise.
   *
   * @param slopePerMillion the line's slope, score per million trainable parameters
   * @param residualSd the standard deviation of the means' residuals (on C - 2 degrees of freedom)
   * @param allocationSd its part beyond noise: sqrt(max(0, residualSd^2 - noiseSd^2 / seeds))
   * @param f the F statistic of the residual spread against the seed noise
   * @param pValue the probability of an F this large if configurations of equal size did not differ
   */
  public record EqualSize(double slopePerMillion, double residualSd, double allocationSd, double f, double pValue) {}

  /**
   * One configuration's seed-averaged score.
   *
   * @param config the configuration
   * @param mean its score averaged over the seeds
   * @param scores its score with each seed, in the order of {@link AllocationSpread#seeds}
   * @param parameters its trainable parameters
   * @param versusReference its paired comparison with the reference (the reference's own is all zeros)
   * @param adjusted the same comparison at a Bonferroni-adjusted level over every configuration compared, the
   *     one to trust when picking the best of many
   */
  public record ConfigMean(RankConfig config, double mean, double[] scores, long parameters,
      PairedComparison versusReference, PairedComparison adjusted) {}

  /** Copies the lists. */
  public AllocationSpread {
    seeds = List.copyOf(seeds);
    configs = List.copyOf(configs);
  }

  /**
   * The spread of one task's scores over the configurations of a table.
   *
   * @param parameters the trainable parameters of a configuration
   * @param confidence two-sided level of the paired comparisons with the reference
   * @throws IllegalArgumentException if the table lacks the reference, has fewer than 3 configurations or
   *     2 seeds common to all, or lacks a successful score of the task on one of them
   */
  public static AllocationSpread of(RecoveryTable table, String task, RankConfig reference,
      ToLongFunction<RankConfig> parameters, double confidence) {
    List<RankConfig> configs = table.configs();
    List<Long> seeds = table.commonSeeds();
    checkArgument(configs.contains(reference), "the table has no row of the reference %s", reference.format());
    checkArgument(configs.size() >= 3, "the spread needs at least 3 configurations, the table has %s", configs.size());
    checkArgument(seeds.size() >= 2, "the spread needs at least 2 seeds common to every configuration, the table has %s",
        seeds.size());
    int c = configs.size();
    int s = seeds.size();
    double[][] y = new double[c][s];
    for (int i = 0; i < c; i++) {
      for (int j = 0; j < s; j++) {
        RankConfig config = configs.get(i);
        long seed = seeds.get(j);
        y[i][j] = table.score(config, seed, task).orElseThrow(() -> new IllegalArgumentException(
            "the table has no " + task + " score for " + config.format() + " with seed " + seed));
      }
    }
    double grand = 0;
    double[] configMean = new double[c];
    double[] seedMean = new double[s];
    for (int i = 0; i < c; i++) {
      for (int j = 0; j < s; j++) {
        configMean[i] += y[i][j] / s;
        seedMean[j] += y[i][j] / c;
        grand += y[i][j] / (c * s);
      }
    }
    double ssConfig = 0;
    double ssResidual = 0;
    for (int i = 0; i < c; i++) {
      ssConfig += s * (configMean[i] - grand) * (configMean[i] - grand);
      for (int j = 0; j < s; j++) {
        double r = y[i][j] - configMean[i] - seedMean[j] + grand;
        ssResidual += r * r;
      }
    }
    int dfConfig = c - 1;
    int dfResidual = (c - 1) * (s - 1);
    double msResidual = ssResidual / dfResidual;
    double f = (ssConfig / dfConfig) / msResidual;
    double p = 1 - new FDistribution(null, dfConfig, dfResidual).cumulativeProbability(f);
    double meansVariance = ssConfig / s / dfConfig;
    double allocationSd = Math.sqrt(Math.max(0, meansVariance - msResidual / s));

    SpearmansCorrelation spearman = new SpearmansCorrelation();
    double agreement = 0;
    int pairs = 0;
    for (int a = 0; a < s; a++) {
      for (int b = a + 1; b < s; b++) {
        double[] x1 = new double[c];
        double[] x2 = new double[c];
        for (int i = 0; i < c; i++) {
          x1[i] = y[i][a];
          x2[i] = y[i][b];
        }
        agreement += spearman.correlation(x1, x2);
        pairs++;
      }
    }
    agreement /= pairs;

    int ref = configs.indexOf(reference);
    double[] params = new double[c];
    List<ConfigMean> means = new ArrayList<>();
    for (int i = 0; i < c; i++) {
      double[] differences = new double[s];
      for (int j = 0; j < s; j++) {
        differences[j] = y[i][j] - y[ref][j];
      }
      params[i] = parameters.applyAsLong(configs.get(i));
      double adjustedConfidence = 1 - (1 - confidence) / (c - 1);
      means.add(new ConfigMean(configs.get(i), configMean[i], y[i].clone(), (long) params[i],
          PairedComparison.of(configs.get(i), reference, seeds, differences, confidence),
          PairedComparison.of(configs.get(i), reference, seeds, differences, adjustedConfidence)));
    }
    double parameterCorrelation = spearman.correlation(configMean, params);
    EqualSize equalSize = equalSize(configMean, params, s, msResidual, dfResidual);
    means.sort(Comparator.comparingDouble(ConfigMean::mean).reversed());
    int referenceRank = 1;
    while (!means.get(referenceRank - 1).config().equals(reference)) {
      referenceRank++;
    }
    return new AllocationSpread(task, reference, seeds, means, Math.sqrt(msResidual), Math.sqrt(meansVariance),
        allocationSd, f, p, agreement, parameterCorrelation, referenceRank, equalSize);
  }

  private static EqualSize equalSize(double[] means, double[] params, int seeds, double msResidual, int dfResidual) {
    int c = means.length;
    double mx = 0;
    double my = 0;
    for (int i = 0; i < c; i++) {
      mx += params[i] / c;
      my += means[i] / c;
    }
    double sxx = 0;
    double sxy = 0;
    for (int i = 0; i < c; i++) {
      sxx += (params[i] - mx) * (params[i] - mx);
      sxy += (params[i] - mx) * (means[i] - my);
    }
    double slope = sxx > 0 ? sxy / sxx : 0;
    int df = sxx > 0 ? c - 2 : c - 1;
    double ss = 0;
    for (int i = 0; i < c; i++) {
      double r = means[i] - my - slope * (params[i] - mx);
      ss += r * r;
    }
    double residualVariance = ss / df;
    double f = seeds * residualVariance / msResidual;
    double p = 1 - new FDistribution(null, df, dfResidual).cumulativeProbability(f);
    return new EqualSize(slope * 1e6, Math.sqrt(residualVariance),
        Math.sqrt(Math.max(0, residualVariance - msResidual / seeds)), f, p);
  }

  /** How many configurations the unadjusted paired comparison finds better (or worse) than the reference. */
  public long count(Verdict verdict) {
    return configs.stream().filter(m -> !m.config().equals(reference))
        .filter(m -> m.versusReference().verdict() == verdict).count();
  }

  /** How many configurations the Bonferroni-adjusted comparison finds better (or worse) than the reference. */
  public long countAdjusted(Verdict verdict) {
    return configs.stream().filter(m -> !m.config().equals(reference))
        .filter(m -> m.adjusted().verdict() == verdict).count();
  }

  /** The number of seeds each mean is over. */
  public int seedCount() {
    return seeds.size();
  }
}
