package org.rankadaptor.dl4j.prune;

import java.util.List;

/**
 * What width pruning did to one layer.
 *
 * @param layer 0-based layer index
 * @param parametersBefore the layer's weights before pruning
 * @param parametersAfter its weights after
 * @param queryHeadsPerGroup query heads that leave with each removed key/value head
 * @param removedHeadGroups removed key/value heads (each with its query heads) and their scores
 * @param removedChannels removed MLP channels and their scores
 * @since 0.1.0
 */
public record LayerPruning(
    int layer,
    long parametersBefore,
    long parametersAfter,
    int queryHeadsPerGroup,
    List<ScoredUnit> removedHeadGroups,
    List<ScoredUnit> removedChannels) {

  /** Freezes the lists. */
  public LayerPruning {
    removedHeadGroups = List.copyOf(removedHeadGroups);
    removedChannels = List.copyOf(removedChannels);
  }
}
