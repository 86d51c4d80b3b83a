package org.rankadaptor.dl4j.recover;

import org.rankadaptor.Provenance;
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;

/**
 * A recovered model: the frozen (pruned) model, the trained adapters that go with it, and how they were
 * made. Evaluate it by passing {@code model} and {@code adapters} to the model's scoring methods.
 *
 * @param model the frozen base model
 * @param adapters the trained adapters (a layer of rank 0 has none); the best validated state
 * @param config the ranks the adapters were built with
 * @param log what training did
 * @param provenance the seed, fingerprints of model and data, and every setting
 * @since 0.1.0
 */
public record RecoveredModel(
    LlamaModel model, LoraAdapters adapters, RankConfig config, TrainingLog log, Provenance provenance) {

  /** Held-out loss of the kept adapters. */
  public double validationLoss() {
    return log.bestValidationLoss();
  }
}
