package org.rankadaptor.dl4j.llama;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.rankadaptor.dl4j.io.LoraTarget;

/**
 * The frozen weights of one decoder layer. Projections are stored as PyTorch stores them, {@code [out,
 * in]}, so {@code y = x W^T}. Query and key rows follow the interleaved RoPE convention (pairs {@code
 * 2i, 2i+1} of each head); see {@link RotaryLayout} for checkpoints in the rotate-half convention.
 *
 * @param attnNorm (dim)
 * @param wq (nHeads * headDim, dim)
 * @param wk (nKvHeads * headDim, dim)
 * @param wv (nKvHeads * headDim, dim)
 * @param wo (dim, nHeads * headDim)
 * @param ffnNorm (dim)
 * @param gate (hiddenDim, dim)
 * @param up (hiddenDim, dim)
 * @param down (dim, hiddenDim)
 * @since 0.1.0
 */
public record LayerWeights(
    INDArray attnNorm, // (dim)
    INDArray wq, // (nHeads * headDim, dim)
    INDArray wk, // (nKvHeads * headDim, dim)
    INDArray wv, // (nKvHeads * headDim, dim)
    INDArray wo, // (dim, nHeads * headDim)
    INDArray ffnNorm, // (dim)
    INDArray gate, // (hiddenDim, dim)
    INDArray up, // (hiddenDim, dim)
    INDArray down) { // (dim, hiddenDim)

  /** The projection a LoRA target adapts. */
  public INDArray projection(LoraTarget target) {
    return switch (target) {
      case Q -> wq;
      case K -> wk;
      case V -> wv;
      case O -> wo;
      case GATE -> gate;
      case UP -> up;
      case DOWN -> down;
    };
  }

  /** Throws when a tensor's shape differs from what {@code shape} and {@code dim} require. */
  void checkShapes(int layer, int dim, LayerShape shape) {
    expect(layer, "attnNorm", attnNorm, dim);
    expect(layer, "ffnNorm", ffnNorm, dim);
    for (LoraTarget t : LoraTarget.values()) {
      expect(layer, t.layerPath(), projection(t), shape.outFeatures(t, dim), shape.inFeatures(t, dim));
    }
  }

  private static void expect(int layer, String name, INDArray array, long... shape) {
    if (array == null || !Arrays.equals(array.shape(), shape)) {
      throw new IllegalArgumentException(
          "layer "
              + layer
              + " tensor "
              + name
              + " has shape "
              + (array == null ? "null" : Arrays.toString(array.shape()))
              + ", expected "
              + Arrays.toString(shape));
    }
  }
}
