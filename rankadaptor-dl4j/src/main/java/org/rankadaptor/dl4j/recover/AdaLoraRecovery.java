package org.rankadaptor.dl4j.recover;

import java.util.List;
import org.rankadaptor.dl4j.llama.AdaLoraAdapters;

/**
 * What an AdaLoRA recovery produced: the recovered model (its adapters are the kept triplets as plain LoRA
 * adapters, so every evaluator and {@code LoraMerge} take it as they take LoRA's), the triplets in PEFT's
 * SVD form with their mask, and how the budget and the regulariser went.
 *
 * @param recovered the model with the kept state's adapters
 * @param adapters the kept state in SVD form; {@code PeftAdapters.writeAdaLora} writes it for PEFT
 * @param settings the AdaLoRA settings it trained with
 * @param totalSteps the recovery's optimiser steps ({@code total_step})
 * @param budgets kept triplets allowed after each step
 * @param regularizer the weighted orthogonality regulariser at each step
 */
public record AdaLoraRecovery(
    RecoveredModel recovered,
    AdaLoraAdapters adapters,
    AdaLoraSettings settings,
    int totalSteps,
    List<Long> budgets,
    List<Double> regularizer) {

  /** Freezes the lists. */
  public AdaLoraRecovery {
    budgets = List.copyOf(budgets);
    regularizer = List.copyOf(regularizer);
  }
}
