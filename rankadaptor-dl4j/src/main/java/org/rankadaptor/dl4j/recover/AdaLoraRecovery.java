package org.rankadaptor.dl4j.recover;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.rankadaptor.dl4j.io.PeftAdaLoraAdapter;
import org.rankadaptor.dl4j.io.SafetensorsDType;
import org.rankadaptor.dl4j.llama.AdaLoraAdapters;
import org.rankadaptor.dl4j.llama.PeftAdapters;

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
 * @since 0.1.0
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

  /** The settings as PEFT's {@code adapter_config.json} records them. */
  public PeftAdaLoraAdapter.Schedule peftSchedule() {
    return new PeftAdaLoraAdapter.Schedule(settings.initR(), settings.targetR(), settings.tinit(), settings.tfinal(),
        settings.deltaT(), settings.beta1(), settings.beta2(), settings.orthRegWeight(), totalSteps);
  }

  /**
   * Writes the adapters as a PEFT AdaLoRA folder, loadable by PEFT on top of the model that {@code
   * LlamaCheckpoints.save} writes (see the README for a pruned model's per-layer shapes).
   *
   * @param baseModelNameOrPath recorded as the adapter's base model
   * @param storage F32, F16 or BF16
   * @param provenance entries for the weights' {@code __metadata__}
   */
  public void writePeft(Path folder, String baseModelNameOrPath, SafetensorsDType storage,
      Map<String, String> provenance) throws IOException {
    PeftAdapters.writeAdaLora(adapters, recovered.model().config(), folder, baseModelNameOrPath, peftSchedule(),
        storage, provenance);
  }
}
