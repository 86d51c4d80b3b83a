package org.rankadaptor;

import java.util.List;
import java.util.Optional;

/**
 * What the confirmation stage found: the finalists and the anchor re-evaluated on further paired
 * recovery seeds, the finalist with the best paired mean compared with the anchor, and which
 * configuration the search recommends and why.
 *
 * @param finalists the finalists and the anchor, best paired mean first
 * @param comparison the best finalist against the anchor (uniform rank 8 by default); empty when the best
 *     is the anchor itself or fewer than two seeds were shared
 * @param recommended the configuration the search returns
 * @param reason why that configuration, in a sentence
 * @since 0.1.0
 */
public record Confirmation(
    List<Finalist> finalists, Optional<PairedComparison> comparison, RankConfig recommended, String reason) {

  /** Copies the finalists. */
  public Confirmation {
    finalists = List.copyOf(finalists);
  }

  /** The comparison's verdict, when there is a comparison. */
  public Optional<Verdict> verdict() {
    return comparison.map(PairedComparison::verdict);
  }
}
