package org.rankadaptor.dl4j.prune;

import org.rankadaptor.dl4j.llama.LlamaModel;

/**
 * A width-pruned model and how it was made.
 *
 * @param model the pruned model; it shares the arrays of unpruned tensors with the original
 * @param report what was removed, and why
 * @since 0.1.0
 */
public record WidthPruningResult(LlamaModel model, PruningReport report) {}
