package org.rankadaptor.dl4j.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * The AdaLoRA factors of one adapted projection as PEFT saves them: only the kept singular triplets, the
 * update to {@code W} ({@code [out, in]}) being {@code P diag(lambda) Q * alpha / (initial rank + 1e-5)}.
 * Arrays are row-major and kept by reference.
 *
 * @param layer 0-based decoder layer
 * @param target the projection adapted
 * @param kept which of the module's initial triplets were kept (its length is the initial rank)
 * @param inFeatures input width of the projection
 * @param outFeatures output width of the projection
 * @param q {@code lora_A}, the kept right singular vectors // (kept, inFeatures)
 * @param lambda {@code lora_E}, the kept singular values // (kept, 1)
 * @param p {@code lora_B}, the kept left singular vectors // (outFeatures, kept)
 * @since 0.1.0
 */
public record SvdModuleWeights(
    int layer, LoraTarget target, boolean[] kept, int inFeatures, int outFeatures, float[] q, float[] lambda,
    float[] p) {

  /** Checks sizes against the kept count and the projection's widths; copies the mask. */
  public SvdModuleWeights {
    Objects.requireNonNull(target, "target");
    kept = kept.clone();
    int rank = keptCount(kept);
    String name = target.modulePath(layer);
    if (layer < 0 || inFeatures <= 0 || outFeatures <= 0 || kept.length == 0) {
      throw new IllegalArgumentException(name + ": needs a non-negative layer, positive widths and an initial rank");
    }
    if ((long) rank * inFeatures != q.length || rank != lambda.length || (long) outFeatures * rank != p.length) {
      throw new IllegalArgumentException(name + ": " + rank + " kept triplets need Q of " + rank + " x " + inFeatures
          + ", lambda of " + rank + " and P of " + outFeatures + " x " + rank + " values, got " + q.length + ", "
          + lambda.length + " and " + p.length);
    }
  }

  /** The mask, copied. */
  @Override
  public boolean[] kept() {
    return kept.clone();
  }

  /** Kept triplets. */
  public int rank() {
    return keptCount(kept);
  }

  /** The initial rank, {@code init_r}. */
  public int initialRank() {
    return kept.length;
  }

  /** The module's path, such as {@code model.layers.5.self_attn.q_proj}. */
  public String modulePath() {
    return target.modulePath(layer);
  }

  static int keptCount(boolean[] kept) {
    int n = 0;
    for (boolean k : kept) {
      n += k ? 1 : 0;
    }
    return n;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof SvdModuleWeights that && layer == that.layer && target == that.target
        && Arrays.equals(kept, that.kept) && inFeatures == that.inFeatures && outFeatures == that.outFeatures
        && Arrays.equals(q, that.q) && Arrays.equals(lambda, that.lambda) && Arrays.equals(p, that.p);
  }

  @Override
  public int hashCode() {
    return Objects.hash(layer, target, Arrays.hashCode(kept), Arrays.hashCode(q));
  }
}
