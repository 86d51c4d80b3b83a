/**
 * Structured pruning of LLaMA-style models, the step before RankAdaptor's recovery.
 *
 * <p>{@link org.rankadaptor.dl4j.prune.WidthPruner} removes coupled attention head groups and MLP channels
 * inside a range of layers (LLM-Pruner); {@link org.rankadaptor.dl4j.prune.DepthPruner} removes whole
 * decoder blocks (Shortened LLaMA). Both take a {@link org.rankadaptor.dl4j.prune.CalibrationSet} of token
 * windows, return a new {@link org.rankadaptor.dl4j.llama.LlamaModel} with per-layer shapes, and a report
 * (JSON through Jackson) of what was removed, the scores, the settings and the calibration's fingerprint.
 * Invalid requests raise {@link org.rankadaptor.dl4j.prune.PruningInputException}.
 */
package org.rankadaptor.dl4j.prune;
