package org.rankadaptor;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * When the search stops exploring new configurations (before a budget is spent). The search asks the
 * rule once per iteration, before it chooses the next configuration; it stops once the rule has held
 * for {@link #patience()} consecutive iterations and then runs its confirmation stage, if any.
 *
 * <ul>
 *   <li>{@link #noExpectedImprovement(double, int)}, the default: no candidate's optimistic prediction
 *       (mean plus {@code optimism} standard deviations of the model's belief) beats the incumbent's
 *       predicted score by more than the measured noise between recovery seeds. It cannot hold before
 *       the noise has been measured, so a search that uses it always replicates first.
 *   <li>{@link #paper(double, int)}: the paper's rule, the last prediction within an absolute threshold
 *       of its measurement. After one online update a model agrees with the target on its level, which
 *       says nothing about the ranking of configurations, so this rule tends to stop after two
 *       evaluations; kept to reproduce the paper.
 *   <li>{@link #paperRelativeToNoise(double, int)}: the paper's rule with its threshold a multiple of
 *       the measured noise instead of raw score units.
 *   <li>{@link #never()}: only the budgets stop the search.
 * </ul>
 *
 * @since 0.1.0
 */
public interface StoppingRule {

  /** A short name for logs, results and provenance, e.g. {@code paper(0.01)}. */
  String name();

  /** Consecutive iterations the rule must hold for the search to stop. */
  int patience();

  /** Whether this rule needs the noise between recovery seeds (then the search replicates early). */
  boolean needsNoise();

  /** Whether the rule holds at this iteration, and why; empty when it does not apply yet. */
  Optional<String> holds(Context context);

  /**
   * What the rule sees at the start of an iteration.
   *
   * @param last the previous exploration evaluation (on the primary recovery seed), if any
   * @param noiseStd the standard deviation of one measurement around its configuration's mean after
   *     removing what a recovery seed shifts for every configuration, when at least one replicate pair
   *     exists
   * @param incumbentPredicted the model's predicted score of the best configuration evaluated so far
   * @param candidates the candidates' predictions
   */
  record Context(
      Optional<IterationRecord> last,
      OptionalDouble noiseStd,
      double incumbentPredicted,
      Predictions candidates) {

    /** The highest {@code mean + optimism * std} among the candidates (the mean without uncertainty). */
    public double optimistic(double optimism) {
      double best = Double.NEGATIVE_INFINITY;
      double[] mean = candidates.mean();
      double[] std = candidates.std();
      for (int i = 0; i < mean.length; i++) {
        best = Math.max(best, mean[i] + (std == null ? 0 : optimism * std[i]));
      }
      return best;
    }
  }

  /**
   * The default: stop when no candidate is expected to beat the incumbent by more than the noise.
   *
   * @param optimism standard deviations of the model's belief added to each candidate's predicted mean
   *     (0 compares means only)
   * @param patience consecutive iterations the rule must hold
   */
  static StoppingRule noExpectedImprovement(double optimism, int patience) {
    checkArgument(optimism >= 0 && Double.isFinite(optimism), "optimism must be finite and >= 0, got %s", optimism);
    checkArgument(patience >= 1, "patience must be >= 1, got %s", patience);
    return new StoppingRule() {
      @Override
      public String name() {
        return String.format(Locale.ROOT, "no-expected-improvement(optimism %s, patience %d)", optimism, patience);
      }

      @Override
      public int patience() {
        return patience;
      }

      @Override
      public boolean needsNoise() {
        return true;
      }

      @Override
      public Optional<String> holds(Context c) {
        if (c.noiseStd().isEmpty() || !Double.isFinite(c.incumbentPredicted())) {
          return Optional.empty();
        }
        double gain = c.optimistic(optimism) - c.incumbentPredicted();
        double noise = c.noiseStd().getAsDouble();
        return gain <= noise
            ? Optional.of(String.format(Locale.ROOT,
                "the best optimistic prediction beats the incumbent by %.5f, not more than the noise %.5f", gain, noise))
            : Optional.empty();
      }
    };
  }

  /** {@link #noExpectedImprovement(double, int)} with optimism 1 and patience 2. */
  static StoppingRule noExpectedImprovement() {
    return noExpectedImprovement(1.0, 2);
  }

  /**
   * The paper's convergence rule: the last exploration evaluation's prediction was within
   * {@code threshold} of its measurement, in score units.
   */
  static StoppingRule paper(double threshold, int patience) {
    checkArgument(threshold >= 0 && Double.isFinite(threshold), "threshold must be finite and >= 0, got %s", threshold);
    checkArgument(patience >= 1, "patience must be >= 1, got %s", patience);
    return new PaperRule(threshold, false, patience);
  }

  /**
   * The paper's rule with the threshold {@code multiple} times the measured noise between recovery
   * seeds, so that it means the same on any score's scale.
   */
  static StoppingRule paperRelativeToNoise(double multiple, int patience) {
    checkArgument(multiple >= 0 && Double.isFinite(multiple), "multiple must be finite and >= 0, got %s", multiple);
    checkArgument(patience >= 1, "patience must be >= 1, got %s", patience);
    return new PaperRule(multiple, true, patience);
  }

  /** Never holds: the search runs until a budget is spent or the space is exhausted. */
  static StoppingRule never() {
    return new StoppingRule() {
      @Override
      public String name() {
        return "never";
      }

      @Override
      public int patience() {
        return 1;
      }

      @Override
      public boolean needsNoise() {
        return false;
      }

      @Override
      public Optional<String> holds(Context context) {
        return Optional.empty();
      }
    };
  }

  /** The paper's rule, absolute or relative to the noise. */
  record PaperRule(double threshold, boolean relativeToNoise, int patience) implements StoppingRule {
    @Override
    public String name() {
      return relativeToNoise
          ? String.format(Locale.ROOT, "paper(%s x noise, patience %d)", threshold, patience)
          : String.format(Locale.ROOT, "paper(%s, patience %d)", threshold, patience);
    }

    @Override
    public boolean needsNoise() {
      return relativeToNoise;
    }

    @Override
    public Optional<String> holds(Context c) {
      if (c.last().isEmpty() || c.last().get().phase() != SearchPhase.ITERATION
          || !c.last().get().observation().succeeded() || !Double.isFinite(c.last().get().predicted())) {
        return Optional.empty();
      }
      double limit;
      if (relativeToNoise) {
        if (c.noiseStd().isEmpty()) {
          return Optional.empty();
        }
        limit = threshold * c.noiseStd().getAsDouble();
      } else {
        limit = threshold;
      }
      double gap = c.last().get().gap();
      return gap <= limit
          ? Optional.of(String.format(Locale.ROOT, "|predicted - measured| = %.5f <= %.5f", gap, limit))
          : Optional.empty();
    }
  }
}
