package org.rankadaptor.dl4j.recover;

/**
 * Hears a recovery's progress; called on the training thread, so it should return quickly.
 *
 * @since 0.1.0
 */
public interface RecoveryListener {

  /** After every optimiser step. */
  default void onStep(RecoveryProgress progress) {}

  /**
   * After every validation.
   *
   * @param best whether this state is the best so far (and is kept)
   */
  default void onValidation(TrainingLog.Validation validation, boolean best) {}
}
