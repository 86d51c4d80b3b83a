package org.rankadaptor.dl4j.llama;

import java.util.Collections;
import java.util.List;

/**
 * The architecture of a LLaMA-style decoder with per-layer widths.
 *
 * @param dim residual stream width
 * @param vocabSize number of token ids
 * @param normEps RMSNorm epsilon (1e-5 for LLaMA-2)
 * @param ropeTheta RoPE base (10000 for LLaMA-2)
 * @param tiedClassifier whether the classifier is the token embedding
 * @param maxSeqLen longest sequence the model accepts
 * @param layers one shape per decoder layer
 * @since 0.1.0
 */
public record LlamaConfig(
    int dim,
    int vocabSize,
    double normEps,
    double ropeTheta,
    boolean tiedClassifier,
    int maxSeqLen,
    List<LayerShape> layers) {

  /** Validates the configuration and freezes the layer list. */
  public LlamaConfig {
    if (dim < 1 || vocabSize < 1 || maxSeqLen < 1) {
      throw new IllegalArgumentException(
          "dim, vocabSize and maxSeqLen must be positive: " + dim + ", " + vocabSize + ", " + maxSeqLen);
    }
    if (!(normEps > 0) || !(ropeTheta > 0)) {
      throw new IllegalArgumentException("normEps and ropeTheta must be positive");
    }
    if (layers == null || layers.isEmpty()) {
      throw new IllegalArgumentException("a model needs at least one layer");
    }
    layers = List.copyOf(layers);
  }

  /** A model whose layers all have the same shape, as before pruning. */
  public static LlamaConfig uniform(
      int dim, int nLayers, int nHeads, int nKvHeads, int hiddenDim, int vocabSize, int maxSeqLen,
      boolean tiedClassifier) {
    if (nHeads < 1 || dim % nHeads != 0) {
      throw new IllegalArgumentException("dim " + dim + " is not divisible by nHeads " + nHeads);
    }
    LayerShape shape = new LayerShape(nHeads, nKvHeads, dim / nHeads, hiddenDim);
    return new LlamaConfig(
        dim, vocabSize, 1e-5, 10000.0, tiedClassifier, maxSeqLen, Collections.nCopies(nLayers, shape));
  }

  /** Number of decoder layers. */
  public int nLayers() {
    return layers.size();
  }

  /** Shape of layer {@code i} (0-based). */
  public LayerShape layer(int i) {
    return layers.get(i);
  }

  /** A copy with other layer shapes, as a pruner produces. */
  public LlamaConfig withLayers(List<LayerShape> newLayers) {
    return new LlamaConfig(dim, vocabSize, normEps, ropeTheta, tiedClassifier, maxSeqLen, newLayers);
  }
}
