package org.rankadaptor.dl4j.recover;

import java.util.List;
import java.util.Locale;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;

/**
 * The rank configurations a searched configuration is compared with, by name, over a {@link RankSpace}
 * whose searched layers are the pruned ones:
 *
 * <ul>
 *   <li>{@code none}: no recovery, rank 0 everywhere (the pruned model as it is);
 *   <li>{@code uniform}: rank 8 on every layer, LLM-Pruner's recovery;
 *   <li>{@code lora*}: the paper's hand-made non-uniform baseline, ranks 4, 6, 10 and 12 on the first to
 *       fourth quarter of the pruned layers, in layer order; other layers keep their pinned rank.
 * </ul>
 *
 * @since 0.1.0
 */
public final class RecoveryBaselines {

  /** No recovery: the pruned model as it is. */
  public static final String NONE = "none";
  /** Uniform rank 8 on every layer. */
  public static final String UNIFORM = "uniform";
  /** LoRA*: the paper's hand-made ranks 4, 6, 10 and 12 over the quarters of the pruned layers. */
  public static final String LORA_STAR = "lora*";

  /** Every baseline's name. */
  public static final List<String> NAMES = List.of(NONE, UNIFORM, LORA_STAR);

  /** The rank of the uniform baseline. */
  public static final int UNIFORM_RANK = 8;

  private static final int[] LORA_STAR_QUARTERS = {4, 6, 10, 12};

  private RecoveryBaselines() {}

  /** Rank 0 on every layer: {@link LoraRecoveryRunner} then trains nothing and returns the model as is. */
  public static RankConfig none(RankSpace space) {
    return RankConfig.uniform(space.numLayers(), 0);
  }

  /** Rank 8 on every layer. */
  public static RankConfig uniform(RankSpace space) {
    return RankConfig.uniform(space.numLayers(), UNIFORM_RANK);
  }

  /**
   * Ranks 4, 6, 10, 12 by quarters of the searched layers (searched layer {@code i} of {@code n} gets
   * quarter {@code floor(4i/n)}), each lowered to the highest of the layer's candidates not above it (a
   * layer pruned narrower than its quarter's rank searches lower ranks only); pinned layers keep their
   * pinned rank.
   */
  public static RankConfig loraStar(RankSpace space) {
    int[] ranks = new int[space.numLayers()];
    for (int layer = 0; layer < ranks.length; layer++) {
      ranks[layer] = space.candidates(layer).get(0);
    }
    int[] searched = space.searchedLayers();
    for (int i = 0; i < searched.length; i++) {
      int quarter = LORA_STAR_QUARTERS[i * LORA_STAR_QUARTERS.length / searched.length];
      // A layer whose candidates stop below its quarter's rank (pruned narrower than it) takes its highest.
      List<Integer> candidates = space.candidates(searched[i]);
      int rank = candidates.get(0);
      for (int c : candidates) {
        if (c <= quarter) {
          rank = c;
        }
      }
      ranks[searched[i]] = rank;
    }
    return RankConfig.of(ranks);
  }

  /**
   * The baseline of this name (case-insensitive).
   *
   * @throws IllegalArgumentException naming the known baselines when the name is not one of them
   */
  public static RankConfig byName(String name, RankSpace space) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case NONE -> none(space);
      case UNIFORM -> uniform(space);
      case LORA_STAR -> loraStar(space);
      default -> throw new IllegalArgumentException(
          "unknown recovery baseline '" + name + "'; known: " + NAMES);
    };
  }
}
