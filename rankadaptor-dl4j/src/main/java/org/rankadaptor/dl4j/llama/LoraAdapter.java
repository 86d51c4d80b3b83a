package org.rankadaptor.dl4j.llama;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One low-rank update of a projection: {@code y = x W^T + scaling * (x A^T) B^T}, as PEFT defines it.
 *
 * @param a (rank, in)
 * @param b (out, rank)
 * @param scaling alpha / rank
 * @since 0.1.0
 */
public record LoraAdapter(
    INDArray a, // (rank, in)
    INDArray b, // (out, rank)
    double scaling) {

  /** Checks that A and B agree on the rank. */
  public LoraAdapter {
    if (a.rank() != 2 || b.rank() != 2 || a.size(0) != b.size(1)) {
      throw new IllegalArgumentException(
          "LoRA A " + Arrays.toString(a.shape()) + " and B " + Arrays.toString(b.shape())
              + " must be (rank, in) and (out, rank)");
    }
  }

  /** The adapter's rank. */
  public int rank() {
    return (int) a.size(0);
  }
}
