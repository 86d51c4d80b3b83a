package org.rankadaptor.dl4j.llama;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Converts query/key projection rows between the two RoPE conventions. The model rotates interleaved
 * pairs {@code (2i, 2i+1)} of each head, as Meta's and llama2.c's checkpoints do; Hugging Face
 * checkpoints permute the rows of {@code q_proj} and {@code k_proj} so that pairs are {@code (i, i +
 * headDim/2)} ("rotate half"). A loader applies {@link #fromRotateHalf} once, so the forward pass has one
 * convention.
 */
final class RotaryLayout {

  private RotaryLayout() {}

  /**
   * Reorders the rows of a rotate-half projection {@code (nHeads * headDim, in)} into the interleaved
   * order: row {@code h*headDim + half*headDim/2 + i} moves to {@code h*headDim + 2i + half}.
   */
  public static INDArray fromRotateHalf(INDArray projection, int nHeads, int headDim) {
    long in = projection.size(1);
    return projection
        .reshape('c', nHeads, 2, headDim / 2, in)
        .permute(0, 2, 1, 3)
        .dup('c')
        .reshape('c', (long) nHeads * headDim, in);
  }

  /** The inverse of {@link #fromRotateHalf}, for writing Hugging Face checkpoints. */
  public static INDArray toRotateHalf(INDArray projection, int nHeads, int headDim) {
    long in = projection.size(1);
    return projection
        .reshape('c', nHeads, headDim / 2, 2, in)
        .permute(0, 2, 1, 3)
        .dup('c')
        .reshape('c', (long) nHeads * headDim, in);
  }
}
