/**
 * RankAdaptor on a real pruned model, end to end; the module's entry point, above its other packages.
 *
 * <p>{@link org.rankadaptor.dl4j.PrunedModelSearch} runs a search: meta-learning data from real
 * recoveries on source tasks, the search on the target task, the comparisons (baselines, AdaLoRA, the
 * paper's protocol, random search, held-out tasks) and the best configuration's adapters; it returns a
 * {@link org.rankadaptor.dl4j.PrunedSearchResult}, with {@link org.rankadaptor.dl4j.HeldOutMeasurement}s.
 * {@link org.rankadaptor.dl4j.RunFolder} owns the output folder (its layout, atomic writes, and taking a
 * previous run's adapters back); {@link org.rankadaptor.dl4j.RunProvenance} is its {@code provenance.json},
 * nested from the records the recovery runner, the performance model and the runtime report of
 * themselves. {@link org.rankadaptor.dl4j.RecoveredEvaluators} measures a recovered model on perplexity
 * and zero-shot tasks.
 *
 * <p>Package-private helpers each do one job of a run: {@code StoredMeasurements} takes a measurement
 * from the observation store or makes and appends it, {@code Comparisons} makes the comparisons, {@code
 * CachingRecoveryRunner} keeps the last recovered model so that one recovery serves several tasks, and
 * {@code RunResultJson} and {@code SearchResultJson} write {@code result.json}.
 *
 * <p>Nothing here computes: the numerics live in {@code llama}, {@code prune}, {@code recover},
 * {@code eval} and {@code predictor}, the file formats in {@code io}, ND4J's start-up in {@code runtime}.
 */
package org.rankadaptor.dl4j;
