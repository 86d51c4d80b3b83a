package org.rankadaptor.dl4j.llama;

/**
 * The model's judgement of a continuation.
 *
 * @param logLikelihood sum over continuation tokens of log p(token | everything before it)
 * @param greedy whether every continuation token was the model's argmax choice
 * @since 0.1.0
 */
public record ContinuationScore(double logLikelihood, boolean greedy) {}
