package org.rankadaptor.dl4j.eval;

import java.util.List;

/**
 * The seam between perplexity and a language model: the log-probability of every token of a window
 * given the tokens before it in that window.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface TokenLogProbs {

  /**
   * Scores a batch of windows.
   *
   * @param windows token ids, each at least two long and at most the model's window
   * @return one array per window, in window order; for a window {@code w} of length n, an array of
   *     n - 1 natural-log probabilities whose element i is {@code log p(w[i+1] | w[0..i])}
   */
  List<double[]> logProbs(List<int[]> windows);
}
