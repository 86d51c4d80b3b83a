package org.rankadaptor.dl4j.prune;

import org.rankadaptor.dl4j.llama.LlamaModel;

/**
 * A depth-pruned model and how it was made.
 *
 * @param model the model without the removed blocks; it shares every remaining array with the original
 * @param report which blocks went, and their scores
 * @since 0.1.0
 */
public record DepthPruningResult(LlamaModel model, DepthPruningReport report) {}
