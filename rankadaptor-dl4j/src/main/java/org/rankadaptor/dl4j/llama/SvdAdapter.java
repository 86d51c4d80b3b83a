package org.rankadaptor.dl4j.llama;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * One AdaLoRA update of a projection in the SVD form PEFT gives it: {@code delta W = P diag(lambda) Q *
 * scaling}, where only the triplets {@code (P[:, i], lambda[i], Q[i, :])} marked kept count. PEFT names
 * the factors {@code lora_B} (P), {@code lora_E} (lambda) and {@code lora_A} (Q), and scales by {@code
 * lora_alpha / (initial rank + 1e-5)}.
 *
 * @param p left singular vectors // (out, rank)
 * @param lambda singular values // (rank, 1)
 * @param q right singular vectors // (rank, in)
 * @param kept which triplets are kept; the others act as if lambda were 0
 * @param scaling the factor applied to the product
 * @since 0.1.0
 */
public record SvdAdapter(INDArray p, INDArray lambda, INDArray q, boolean[] kept, double scaling) {

  /** Checks that the factors agree on the rank and copies the mask. */
  public SvdAdapter {
    if (p.rank() != 2 || q.rank() != 2 || lambda.rank() != 2 || lambda.size(1) != 1
        || p.size(1) != q.size(0) || lambda.size(0) != q.size(0) || kept.length != q.size(0)) {
      throw new IllegalArgumentException("AdaLoRA P " + Arrays.toString(p.shape()) + ", lambda "
          + Arrays.toString(lambda.shape()) + ", Q " + Arrays.toString(q.shape()) + " and a mask of " + kept.length
          + " must be (out, r), (r, 1), (r, in) and r");
    }
    kept = kept.clone();
  }

  /** Triplets held, kept or not: the initial rank. */
  public int initialRank() {
    return (int) q.size(0);
  }

  /** Kept triplets: the rank AdaLoRA ended with. */
  public int rank() {
    int n = 0;
    for (boolean k : kept) {
      n += k ? 1 : 0;
    }
    return n;
  }

  /** The mask, copied. */
  @Override
  public boolean[] kept() {
    return kept.clone();
  }

  /** Indices of the kept triplets, ascending. */
  public long[] keptIndices() {
    long[] out = new long[rank()];
    for (int i = 0, j = 0; i < kept.length; i++) {
      if (kept[i]) {
        out[j++] = i;
      }
    }
    return out;
  }

  /**
   * The same update as a LoRA adapter of the kept rank: {@code A = diag(lambda) Q} and {@code B = P} on the
   * kept triplets, same scaling; null when no triplet is kept.
   */
  public LoraAdapter toLora() {
    long[] rows = keptIndices();
    if (rows.length == 0) {
      return null;
    }
    INDArray keptQ = q.get(NDArrayIndex.indices(rows), NDArrayIndex.all()).dup();
    INDArray keptLambda = lambda.get(NDArrayIndex.indices(rows), NDArrayIndex.all()).dup();
    INDArray keptP = p.get(NDArrayIndex.all(), NDArrayIndex.indices(rows)).dup();
    return new LoraAdapter(keptQ.muliColumnVector(keptLambda), keptP, scaling);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof SvdAdapter that && p.equals(that.p) && lambda.equals(that.lambda) && q.equals(that.q)
        && Arrays.equals(kept, that.kept) && Double.compare(scaling, that.scaling) == 0;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(kept) + Double.hashCode(scaling);
  }
}
