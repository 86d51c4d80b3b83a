package org.rankadaptor.dl4j.llama;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits as llama2.c's sampler does: greedy at temperature 0, else
 * from the softmax of {@code logits / temperature}, restricted to the nucleus when {@code topP < 1}. A
 * sampler draws one number from its stream per token (none when greedy), so a seed fixes the sample.
 */
interface Sampler {

  /** The id of the next token. */
  int sample(double[] logits);

  /** The sampler of {@code settings}, drawing from {@code random}. */
  static Sampler of(GenerationSettings settings, SplittableRandom random) {
    if (settings.temperature() == 0) {
      return Sampler::argmax;
    }
    double temperature = settings.temperature();
    double topP = settings.topP();
    if (topP >= 1) {
      return logits -> fromDistribution(softmax(logits, temperature), random.nextDouble());
    }
    return logits -> fromNucleus(softmax(logits, temperature), topP, random.nextDouble());
  }

  /** The most likely token, the first of equals. */
  private static int argmax(double[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  private static double[] softmax(double[] logits, double temperature) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : logits) {
      max = Math.max(max, v);
    }
    double[] probs = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      probs[i] = Math.exp((logits[i] - max) / temperature);
      sum += probs[i];
    }
    for (int i = 0; i < probs.length; i++) {
      probs[i] /= sum;
    }
    return probs;
  }

  /** The token where the cumulative distribution first exceeds {@code coin}. */
  private static int fromDistribution(double[] probs, double coin) {
    double cdf = 0;
    for (int i = 0; i < probs.length; i++) {
      cdf += probs[i];
      if (coin < cdf) {
        return i;
      }
    }
    return probs.length - 1;
  }

  /** Nucleus: the smallest set of most likely tokens whose mass exceeds topP, sampled renormalised. */
  private static int fromNucleus(double[] probs, double topP, double coin) {
    Integer[] order = new Integer[probs.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
    double mass = 0;
    int last = order.length - 1;
    for (int i = 0; i < order.length; i++) {
      mass += probs[order[i]];
      if (mass > topP) {
        last = i;
        break;
      }
    }
    double target = coin * mass;
    double cdf = 0;
    for (int i = 0; i <= last; i++) {
      cdf += probs[order[i]];
      if (target < cdf) {
        return order[i];
      }
    }
    return order[last];
  }
}
