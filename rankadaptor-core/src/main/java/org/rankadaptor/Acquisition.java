package org.rankadaptor;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.SplittableRandom;

/**
 * Turns predictions into the value the search maximises when it chooses the next configuration to
 * recover for real. The paper is greedy on the predicted mean; with a model that knows its
 * uncertainty, the upper confidence bound and Thompson sampling trade exploitation for exploration.
 *
 * @since 0.1.0
 */
public interface Acquisition {

  /** A short name for logs and provenance, e.g. {@code ucb(2.0)}. */
  String name();

  /** Whether this rule needs {@link Predictions#std()}. */
  boolean needsUncertainty();

  /** One value per candidate; the search picks the largest. */
  double[] values(Predictions predictions, SplittableRandom random);

  /** The predicted mean, as in the paper. */
  static Acquisition greedy() {
    return new Acquisition() {
      @Override
      public String name() {
        return "greedy";
      }

      @Override
      public boolean needsUncertainty() {
        return false;
      }

      @Override
      public double[] values(Predictions predictions, SplittableRandom random) {
        return predictions.mean().clone();
      }
    };
  }

  /** Mean plus {@code beta} standard deviations. */
  static Acquisition upperConfidenceBound(double beta) {
    checkArgument(beta >= 0 && Double.isFinite(beta), "beta must be finite and >= 0, got %s", beta);
    return new Acquisition() {
      @Override
      public String name() {
        return "ucb(" + beta + ")";
      }

      @Override
      public boolean needsUncertainty() {
        return true;
      }

      @Override
      public double[] values(Predictions predictions, SplittableRandom random) {
        double[] out = predictions.mean().clone();
        double[] std = requireStd(predictions, this);
        for (int i = 0; i < out.length; i++) {
          out[i] += beta * std[i];
        }
        return out;
      }
    };
  }

  /**
   * One draw from each candidate's predictive normal distribution (independent per candidate), so that
   * uncertain candidates are sometimes chosen in proportion to their chance of being best.
   */
  static Acquisition thompsonSampling() {
    return new Acquisition() {
      @Override
      public String name() {
        return "thompson";
      }

      @Override
      public boolean needsUncertainty() {
        return true;
      }

      @Override
      public double[] values(Predictions predictions, SplittableRandom random) {
        double[] out = predictions.mean().clone();
        double[] std = requireStd(predictions, this);
        for (int i = 0; i < out.length; i++) {
          out[i] += std[i] * gaussian(random);
        }
        return out;
      }
    };
  }

  private static double[] requireStd(Predictions predictions, Acquisition rule) {
    if (!predictions.hasUncertainty()) {
      throw new IllegalStateException(rule.name() + " needs a performance model with uncertainty");
    }
    return predictions.std();
  }

  /** A standard normal draw (Box-Muller), so that results do not depend on java.util.Random. */
  private static double gaussian(SplittableRandom random) {
    double u = 1.0 - random.nextDouble(); // (0, 1]
    double v = random.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2.0 * Math.PI * v);
  }
}
