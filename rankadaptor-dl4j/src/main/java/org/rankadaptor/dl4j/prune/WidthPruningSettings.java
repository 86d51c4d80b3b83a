package org.rankadaptor.dl4j.prune;

import java.util.Objects;

/**
 * What {@link WidthPruner} does.
 *
 * @param importance the criterion that ranks head groups and channels
 * @param reduction how a unit's scores in its coupled matrices combine
 * @param firstLayer first pruned layer, 0-based
 * @param lastLayer last pruned layer, 0-based and inclusive (LLaMA-7B in the paper: 4..29 of 32)
 * @param globalRatio fraction of the whole model's parameters to remove, in (0, 1)
 * @param seed seed of {@link Importance#RANDOM}; recorded in the report
 * @param rankedAcrossLayers false (the default, LLM-Pruner's block-wise pruning): every pruned layer loses
 *     the same share; true (LLM-Pruner's {@code --global_pruning}): the same number of head groups and MLP
 *     channels go in all, but the least important across the pruned layers, so that layers lose unequal
 *     shares (each keeps at least an eighth of its head groups and of its channels, and at least one)
 * @since 0.1.0
 */
public record WidthPruningSettings(
    Importance importance,
    GroupReduction reduction,
    int firstLayer,
    int lastLayer,
    double globalRatio,
    long seed,
    boolean rankedAcrossLayers) {

  /** Block-wise settings: every pruned layer loses the same share. */
  public WidthPruningSettings(
      Importance importance, GroupReduction reduction, int firstLayer, int lastLayer, double globalRatio, long seed) {
    this(importance, reduction, firstLayer, lastLayer, globalRatio, seed, false);
  }

  /**
   * Validates what does not depend on the model.
   *
   * @throws PruningInputException when the ratio is outside (0, 1) or the layer range is empty or negative
   */
  public WidthPruningSettings {
    Objects.requireNonNull(importance, "importance");
    Objects.requireNonNull(reduction, "reduction");
    if (!(globalRatio > 0 && globalRatio < 1)) {
      throw new PruningInputException("global pruning ratio must be in (0, 1), got " + globalRatio);
    }
    if (firstLayer < 0 || lastLayer < firstLayer) {
      throw new PruningInputException(
          "layer range " + firstLayer + ".." + lastLayer + " is empty or negative");
    }
  }

  /** First-order element-wise Taylor importance summed over each group, LLM-Pruner's default. */
  public static WidthPruningSettings llmPruner(int firstLayer, int lastLayer, double globalRatio) {
    return new WidthPruningSettings(
        Importance.ELEMENT1, GroupReduction.SUM, firstLayer, lastLayer, globalRatio, 0);
  }

  /** A copy with another criterion and seed. */
  public WidthPruningSettings withImportance(Importance newImportance, long newSeed) {
    return new WidthPruningSettings(
        newImportance, reduction, firstLayer, lastLayer, globalRatio, newSeed, rankedAcrossLayers);
  }

  /** A copy with another group reduction. */
  public WidthPruningSettings withReduction(GroupReduction newReduction) {
    return new WidthPruningSettings(
        importance, newReduction, firstLayer, lastLayer, globalRatio, seed, rankedAcrossLayers);
  }

  /** A copy that ranks units across the pruned layers (uneven shares per layer) or within each. */
  public WidthPruningSettings withRankingAcrossLayers(boolean value) {
    return new WidthPruningSettings(importance, reduction, firstLayer, lastLayer, globalRatio, seed, value);
  }
}
