package org.rankadaptor.dl4j.eval;

import java.util.Arrays;

/**
 * One log-likelihood query: the summed log-probability of {@code continuation} given {@code context},
 * {@code sum_i log p(continuation[i] | context, continuation[0..i-1])}.
 *
 * <p>Arrays are shared, not copied; callers must not modify them. Equality compares contents.
 *
 * @param context the conditioning token ids, at least one (no BOS is added by the evaluator)
 * @param continuation the token ids whose log-probabilities are summed, at least one
 * @since 0.1.0
 */
public record ScoringRequest(int[] context, int[] continuation) {

  /** Checks that context and continuation are not empty. */
  public ScoringRequest {
    if (context == null || context.length == 0) {
      throw new IllegalArgumentException("a scoring request needs at least one context token");
    }
    if (continuation == null || continuation.length == 0) {
      throw new IllegalArgumentException("a scoring request needs at least one continuation token");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ScoringRequest r
        && Arrays.equals(context, r.context)
        && Arrays.equals(continuation, r.continuation);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(context) + Arrays.hashCode(continuation);
  }

  @Override
  public String toString() {
    return "ScoringRequest[context=" + Arrays.toString(context) + ", continuation=" + Arrays.toString(continuation) + "]";
  }
}
