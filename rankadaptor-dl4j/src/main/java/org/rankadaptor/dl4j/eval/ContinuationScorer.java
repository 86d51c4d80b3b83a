package org.rankadaptor.dl4j.eval;

import java.util.List;

/**
 * The seam between zero-shot evaluation and a language model: summed log-likelihoods of continuations.
 * A model implements it (typically through a method reference); the evaluator never sees the model.
 *
 * <p>When {@code context + continuation} is longer than the model's window, the implementation drops
 * context tokens from the left, as lm-evaluation-harness does.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface ContinuationScorer {

  /**
   * Scores a batch of requests.
   *
   * @param requests the queries, in any order and of any lengths
   * @return one value per request, in request order: the summed natural-log probability of its
   *     continuation, so at most 0 (and never NaN)
   */
  double[] logLikelihoods(List<ScoringRequest> requests);
}
