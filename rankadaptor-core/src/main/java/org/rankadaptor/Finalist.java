package org.rankadaptor;

import java.util.List;
import java.util.Map;

/**
 * A configuration re-evaluated in the confirmation stage, with its scores on the seeds every finalist
 * shares.
 *
 * @param config the configuration
 * @param scores score per recovery seed, in seed order of the confirmation
 * @param mean mean of those scores
 * @param standardError standard error of that mean over the seeds (NaN with one seed)
 * @param cost the configuration's trainable LoRA parameters under the space's budget, or its total
 *     rank when the space has no budget
 * @since 0.1.0
 */
public record Finalist(RankConfig config, Map<Long, Double> scores, double mean, double standardError, long cost) {

  /** Copies the scores. */
  public Finalist {
    scores = Map.copyOf(scores);
  }

  /** The seeds, ascending. */
  public List<Long> seeds() {
    return scores.keySet().stream().sorted().toList();
  }
}
