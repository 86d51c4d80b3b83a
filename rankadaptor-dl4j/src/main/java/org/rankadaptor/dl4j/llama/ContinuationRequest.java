package org.rankadaptor.dl4j.llama;

/**
 * A continuation to score given its context, the request every zero-shot evaluator makes.
 *
 * @param context token ids before the continuation; at least one
 * @param continuation token ids whose log-likelihood is wanted; at least one
 * @since 0.1.0
 */
public record ContinuationRequest(int[] context, int[] continuation) {

  /** Validates that both parts are non-empty. */
  public ContinuationRequest {
    if (context.length == 0 || continuation.length == 0) {
      throw new IllegalArgumentException("context and continuation must both be non-empty");
    }
  }
}
