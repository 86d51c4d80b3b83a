package org.rankadaptor.dl4j.llama;

import org.rankadaptor.dl4j.io.LoraTarget;

/**
 * The widths of one decoder layer. A structurally pruned model keeps {@code dim} and {@code headDim} but
 * may have different head counts and MLP widths in every layer.
 *
 * @param nHeads query heads
 * @param nKvHeads key/value heads; {@code nHeads} is a multiple of it (grouped-query attention)
 * @param headDim width of one head; even, because RoPE rotates pairs
 * @param hiddenDim MLP width (gate and up output channels)
 * @since 0.1.0
 */
public record LayerShape(int nHeads, int nKvHeads, int headDim, int hiddenDim) {

  /** Validates the widths. */
  public LayerShape {
    if (nHeads < 1 || nKvHeads < 1 || headDim < 2 || hiddenDim < 1) {
      throw new IllegalArgumentException("layer widths must be positive (headDim >= 2): " + this);
    }
    if (nHeads % nKvHeads != 0) {
      throw new IllegalArgumentException(
          "nHeads " + nHeads + " is not a multiple of nKvHeads " + nKvHeads);
    }
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException("headDim " + headDim + " is odd; RoPE rotates pairs");
    }
  }

  /** Output width of the query projection and input width of the output projection. */
  public int queryDim() {
    return nHeads * headDim;
  }

  /** Output width of the key and value projections. */
  public int kvDim() {
    return nKvHeads * headDim;
  }

  /** Query heads sharing one key/value head. */
  public int groupSize() {
    return nHeads / nKvHeads;
  }

  /** Input width of {@code target}'s projection in a layer of this shape, in a model of width {@code dim}. */
  public int inFeatures(LoraTarget target, int dim) {
    return switch (target) {
      case Q, K, V, GATE, UP -> dim;
      case O -> queryDim();
      case DOWN -> hiddenDim;
    };
  }

  /** Output width of {@code target}'s projection in a layer of this shape, in a model of width {@code dim}. */
  public int outFeatures(LoraTarget target, int dim) {
    return switch (target) {
      case Q -> queryDim();
      case K, V -> kvDim();
      case O, DOWN -> dim;
      case GATE, UP -> hiddenDim;
    };
  }
}
