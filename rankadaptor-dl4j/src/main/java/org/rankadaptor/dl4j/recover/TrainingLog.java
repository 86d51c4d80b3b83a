package org.rankadaptor.dl4j.recover;

import java.util.List;

/**
 * What a recovery did: every optimiser step, every validation, and which validated state was kept.
 *
 * @param steps one entry per optimiser step, in order
 * @param validations held-out losses, the first before any training (the unrecovered model)
 * @param bestStep steps taken by the kept state (0: the adapters as initialised, which leave the model
 *     unchanged)
 * @param bestValidationLoss the kept state's validation loss (mean next-token cross-entropy)
 * @param trainedTokens tokens read by training forward passes (padding excluded)
 * @param tokensPerSecond {@code trainedTokens} per second of training, validation excluded
 * @param seconds wall time of the whole recovery, validation included
 * @since 0.1.0
 */
public record TrainingLog(
    List<Step> steps,
    List<Validation> validations,
    int bestStep,
    double bestValidationLoss,
    long trainedTokens,
    double tokensPerSecond,
    double seconds) {

  /** Freezes the lists. */
  public TrainingLog {
    steps = List.copyOf(steps);
    validations = List.copyOf(validations);
  }

  /**
   * One optimiser step.
   *
   * @param step 1-based index: the number of steps taken after it
   * @param loss mean training loss over the step's target tokens (before the update)
   * @param learningRate the rate the step used
   * @param gradientNorm global norm of the accumulated gradient, before clipping
   * @param tokens tokens read by the step's forward passes
   */
  public record Step(int step, double loss, double learningRate, double gradientNorm, int tokens) {}

  /**
   * A held-out measurement.
   *
   * @param step optimiser steps taken when it was measured
   * @param loss mean next-token cross-entropy over the validation targets
   */
  public record Validation(int step, double loss) {

    /** {@code exp(loss)}. */
    public double perplexity() {
      return Math.exp(loss);
    }
  }

  /** The validation loss before any training: the model as given. */
  public double initialValidationLoss() {
    return validations.get(0).loss();
  }
}
