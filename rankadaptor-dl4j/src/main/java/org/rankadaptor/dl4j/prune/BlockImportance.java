package org.rankadaptor.dl4j.prune;

/**
 * How {@link DepthPruner} scores a decoder block, as in Shortened LLaMA.
 *
 * @since 0.1.0
 */
public enum BlockImportance {
  /**
   * Taylor: the sum over the block's seven projection matrices of {@code sum |W * g|}, with {@code g}
   * the gradient of the mean next-token loss over the calibration samples. One backward pass.
   */
  TAYLOR,
  /**
   * Perplexity on the calibration samples of the model with that block alone removed: the blocks whose
   * removal hurts least go. One forward pass per candidate block.
   */
  PPL
}
