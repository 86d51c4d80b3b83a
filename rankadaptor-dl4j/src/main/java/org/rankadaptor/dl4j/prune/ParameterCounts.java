package org.rankadaptor.dl4j.prune;

import org.rankadaptor.dl4j.llama.LayerShape;
import org.rankadaptor.dl4j.llama.LlamaConfig;

/** Parameter counts of a configuration, the currency in which pruning ratios are stated. */
final class ParameterCounts {

  private ParameterCounts() {}

  /** Weights of the seven projections of a layer (what width pruning can remove from). */
  static long projections(int dim, LayerShape s) {
    long attention = 2L * dim * s.queryDim() + 2L * dim * s.kvDim();
    return attention + 3L * dim * s.hiddenDim();
  }

  /** All weights of a layer: projections and its two RMSNorm vectors. */
  static long layer(int dim, LayerShape s) {
    return projections(dim, s) + 2L * dim;
  }

  /** Weights one key/value head group carries: its query heads' q rows and o columns, its k and v rows. */
  static long headGroup(int dim, LayerShape s) {
    return 2L * dim * s.headDim() * (s.groupSize() + 1);
  }

  /** Weights one MLP channel carries: a gate row, an up row and a down column. */
  static long channel(int dim) {
    return 3L * dim;
  }

  /** All weights of a model; a tied classifier counts once. */
  static long model(LlamaConfig c) {
    long total = (long) c.vocabSize() * c.dim() * (c.tiedClassifier() ? 1 : 2) + c.dim();
    for (LayerShape s : c.layers()) {
      total += layer(c.dim(), s);
    }
    return total;
  }
}
