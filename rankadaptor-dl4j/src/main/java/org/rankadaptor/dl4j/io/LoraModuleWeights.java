package org.rankadaptor.dl4j.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * The LoRA factors of one adapted projection: the update to {@code W} ({@code [out, in]}) is
 * {@code B A * alpha / rank}. Arrays are row-major and kept by reference: they must not be changed while
 * this record is in use.
 *
 * @param layer 0-based decoder layer
 * @param target the projection adapted
 * @param rank inner dimension r of the factors
 * @param alpha LoRA alpha; the update is scaled by {@code alpha / rank}
 * @param inFeatures input width of the projection
 * @param outFeatures output width of the projection
 * @param a down-projection // (rank, inFeatures)
 * @param b up-projection // (outFeatures, rank)
 * @since 0.1.0
 */
public record LoraModuleWeights(
    int layer,
    LoraTarget target,
    int rank,
    double alpha,
    int inFeatures,
    int outFeatures,
    float[] a,
    float[] b) {

  /** Checks sizes against the rank and the projection's widths. */
  public LoraModuleWeights {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    if (layer < 0 || rank <= 0 || inFeatures <= 0 || outFeatures <= 0) {
      throw new IllegalArgumentException(
          describe(layer, target)
              + ": layer must be non-negative and rank, in and out features positive, got layer "
              + layer + ", rank " + rank + ", in " + inFeatures + ", out " + outFeatures);
    }
    if (!Double.isFinite(alpha)) {
      throw new IllegalArgumentException(describe(layer, target) + ": alpha must be finite, got " + alpha);
    }
    if ((long) rank * inFeatures != a.length) {
      throw new IllegalArgumentException(
          describe(layer, target) + ": A holds " + a.length + " values, not rank " + rank + " x in " + inFeatures);
    }
    if ((long) outFeatures * rank != b.length) {
      throw new IllegalArgumentException(
          describe(layer, target) + ": B holds " + b.length + " values, not out " + outFeatures + " x rank " + rank);
    }
  }

  /** The factor applied to {@code B A}: {@code alpha / rank}. */
  public double scaling() {
    return alpha / rank;
  }

  /** The module's path, such as {@code model.layers.5.self_attn.q_proj}. */
  public String modulePath() {
    return target.modulePath(layer);
  }

  static String describe(int layer, LoraTarget target) {
    return target == null ? "layer " + layer : target.modulePath(layer);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof LoraModuleWeights that
        && layer == that.layer
        && target == that.target
        && rank == that.rank
        && Double.compare(alpha, that.alpha) == 0
        && inFeatures == that.inFeatures
        && outFeatures == that.outFeatures
        && Arrays.equals(a, that.a)
        && Arrays.equals(b, that.b);
  }

  @Override
  public int hashCode() {
    return Objects.hash(layer, target, rank, alpha, inFeatures, outFeatures, Arrays.hashCode(a), Arrays.hashCode(b));
  }

  @Override
  public String toString() {
    return modulePath() + " rank " + rank + " alpha " + alpha + " [" + outFeatures + " x " + inFeatures + "]";
  }
}
