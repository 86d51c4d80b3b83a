package org.rankadaptor.examples;

import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.HeldOutMeasurement;
import org.rankadaptor.dl4j.PrunedModelSearch;

/**
 * What each method of an experiment setting trained, as the report shows it: its ranks and trainable
 * parameters. A configuration says both for LoRA; AdaLoRA learns its ranks during the fine-tune, so its
 * come from what its held-out observations recorded.
 */
final class MethodAdapters {

  private MethodAdapters() {}

  private static RankConfig config(SettingRun run, String method) {
    return run.result().heldOut().stream().filter(m -> m.method().equals(method)).findFirst()
        .map(HeldOutMeasurement::config).orElseThrow();
  }

  /**
   * A method's ranks as the table shows them: its configuration, or for AdaLoRA the mean rank per layer it
   * learned with the first held-out seed (its initial ranks are its configuration).
   */
  static String ranks(SettingRun run, String method) {
    if (method.equals(PrunedModelSearch.ADALORA)) {
      return firstTestMeasurement(run, method).map(m -> m.observation().provenance().settings().get("layerRanks"))
          .map(r -> r.replace(".00", "")).orElse("–");
    }
    return config(run, method).format();
  }

  /**
   * Trainable parameters of a method's adapters: from its configuration, or for AdaLoRA the mean over
   * held-out seeds of its kept triplets' P and Q elements (its singular values and the masked triplets,
   * which it trains until they are masked, not counted).
   */
  static long trainableParameters(SettingRun run, String method) {
    if (method.equals(PrunedModelSearch.ADALORA)) {
      return Math.round(run.result().heldOut().stream()
          .filter(m -> m.method().equals(method) && m.observation().taskId().equals(ExperimentStats.TEST_PPL))
          .map(m -> m.observation().provenance().settings().get("adapterParameters"))
          .filter(Objects::nonNull).mapToLong(Long::parseLong).average().orElse(Double.NaN));
    }
    return run.space().trainableParameters(config(run, method)).orElse(0L);
  }

  private static Optional<HeldOutMeasurement> firstTestMeasurement(SettingRun run, String method) {
    return run.result().heldOut().stream()
        .filter(m -> m.method().equals(method) && m.observation().taskId().equals(ExperimentStats.TEST_PPL)
            && m.observation().succeeded())
        .min(Comparator.comparingLong(HeldOutMeasurement::recoverySeed));
  }
}
