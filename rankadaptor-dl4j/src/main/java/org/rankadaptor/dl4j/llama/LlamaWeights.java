package org.rankadaptor.dl4j.llama;

import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * All frozen weights of a model. With a tied classifier, {@code classifier} is the same array as
 * {@code tokenEmbedding}. The same record also carries gradients of the weights (see {@link
 * LlamaModel#fullWeightGradients}).
 *
 * @param tokenEmbedding (vocab, dim)
 * @param layers one entry per decoder layer
 * @param finalNorm (dim)
 * @param classifier (vocab, dim)
 * @since 0.1.0
 */
public record LlamaWeights(
    INDArray tokenEmbedding, // (vocab, dim)
    List<LayerWeights> layers, // (layer)
    INDArray finalNorm, // (dim)
    INDArray classifier) { // (vocab, dim)

  /** Freezes the layer list. */
  public LlamaWeights {
    layers = List.copyOf(layers);
  }

  /** Throws when any tensor's shape disagrees with {@code config}. */
  public void checkShapes(LlamaConfig config) {
    if (layers.size() != config.nLayers()) {
      throw new IllegalArgumentException(
          "weights have " + layers.size() + " layers, config " + config.nLayers());
    }
    long[] table = {config.vocabSize(), config.dim()};
    if (!Arrays.equals(tokenEmbedding.shape(), table) || !Arrays.equals(classifier.shape(), table)) {
      throw new IllegalArgumentException(
          "tokenEmbedding "
              + Arrays.toString(tokenEmbedding.shape())
              + " and classifier "
              + Arrays.toString(classifier.shape())
              + " must be "
              + Arrays.toString(table));
    }
    if (!Arrays.equals(finalNorm.shape(), new long[] {config.dim()})) {
      throw new IllegalArgumentException(
          "finalNorm has shape " + Arrays.toString(finalNorm.shape()) + ", expected [" + config.dim() + "]");
    }
    for (int i = 0; i < layers.size(); i++) {
      layers.get(i).checkShapes(i, config.dim(), config.layer(i));
    }
  }
}
