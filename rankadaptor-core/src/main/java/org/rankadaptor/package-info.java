/**
 * The search and its vocabulary, free of any tensor library.
 *
 * <p>{@link org.rankadaptor.RankAdaptor#search} runs a {@link org.rankadaptor.SearchSpec}: a
 * {@link org.rankadaptor.RankSpace} of per-layer ranks, a {@link org.rankadaptor.PerformanceModel} that
 * predicts scores, a {@link org.rankadaptor.RecoveryRunner} and an {@link org.rankadaptor.Evaluator} that
 * make and measure real recoveries, and an {@link org.rankadaptor.ObservationStore} that persists every
 * {@link org.rankadaptor.Observation} as it is made. An {@link org.rankadaptor.EvaluationExecutor} runs
 * the search's {@link org.rankadaptor.FineTune}s, one at a time or in batches; a
 * {@link org.rankadaptor.StoppingRule} ends exploration, and the {@link org.rankadaptor.SearchResult}
 * carries the trace, the {@link org.rankadaptor.Confirmation} and its verdict against the anchor.
 */
package org.rankadaptor;
