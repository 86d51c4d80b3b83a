package org.rankadaptor;

/**
 * Recovers the pruned model for a rank configuration, typically by fine-tuning LoRA adapters with
 * those ranks.
 *
 * @param <M> the recovered model handed to the {@link Evaluator}
 * @since 0.1.0
 */
public interface RecoveryRunner<M> {

  /**
   * Recovers the model with the given ranks.
   *
   * @param config ranks per layer, already validated against the search's space
   * @param seed seed of every random choice of the recovery (adapter initialisation, data order,
   *     dropout); the search passes the same seed for every configuration so that comparisons are paired
   * @throws RecoveryFailedException when training diverged or otherwise produced no usable model
   */
  M recover(RankConfig config, long seed);

  /** Frees what a recovered model holds once it has been evaluated. */
  default void release(M model) {}

  /**
   * Identifies the pruned model and the recovery data and settings; stored observations are reused
   * only when it matches.
   */
  default String fingerprint() {
    return "";
  }
}
