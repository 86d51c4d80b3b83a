/**
 * Evaluation of recovered models with lm-evaluation-harness semantics: task loaders for the published
 * formats ({@link org.rankadaptor.dl4j.eval.TaskLoaders}), zero-shot multiple-choice accuracy
 * ({@link org.rankadaptor.dl4j.eval.ZeroShotEvaluator}) and sliding-window perplexity
 * ({@link org.rankadaptor.dl4j.eval.PerplexityEvaluator}). A model takes part only through two seams,
 * {@link org.rankadaptor.dl4j.eval.ContinuationScorer} and {@link org.rankadaptor.dl4j.eval.TokenLogProbs}.
 */
package org.rankadaptor.dl4j.eval;
