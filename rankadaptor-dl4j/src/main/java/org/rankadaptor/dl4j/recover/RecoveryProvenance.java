package org.rankadaptor.dl4j.recover;

import java.util.Objects;
import java.util.Optional;
import org.rankadaptor.RecoveryRunner;

/**
 * How a recovery runner recovers, as the runner itself reports it: its settings field by field, and
 * fingerprints of the frozen model and of the training and validation data it cut to those settings. A
 * recovery with equal provenance and seed gives equal adapters. Serialised by Jackson as it is (a run's
 * {@code provenance.json} nests it) and read back equal.
 *
 * <p>{@link #fingerprint()} and {@link #dataFingerprint()} render the record as the strings that observation
 * stores have always matched earlier measurements by; their format is frozen so that a resumed experiment
 * reuses the stores it wrote before.
 *
 * @param runner the runner's simple class name, such as {@code LoraRecoveryRunner}
 * @param settings how the runner trains
 * @param adaLora AdaLoRA's own settings; null for a LoRA runner
 * @param modelFingerprint SHA-256 of the frozen model's shapes and weights
 * @param trainingDataFingerprint SHA-256 of the training examples' tokens and masks after the cut
 * @param validationDataFingerprint SHA-256 of the validation examples' tokens and masks after the cut
 * @since 0.1.0
 */
public record RecoveryProvenance(
    String runner,
    RecoverySettings settings,
    AdaLoraSettings adaLora,
    String modelFingerprint,
    String trainingDataFingerprint,
    String validationDataFingerprint) {

  /** Everything but AdaLoRA's settings is required. */
  public RecoveryProvenance {
    Objects.requireNonNull(runner, "runner");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(modelFingerprint, "modelFingerprint");
    Objects.requireNonNull(trainingDataFingerprint, "trainingDataFingerprint");
    Objects.requireNonNull(validationDataFingerprint, "validationDataFingerprint");
  }

  /**
   * The provenance of a runner of this package ({@link LoraRecoveryRunner}, {@link AdaLoraRecoveryRunner});
   * empty for any other runner, which is known only by its {@link RecoveryRunner#fingerprint()}.
   */
  public static Optional<RecoveryProvenance> of(RecoveryRunner<?> runner) {
    if (runner instanceof LoraRecoveryRunner lora) {
      return Optional.of(lora.provenance());
    }
    if (runner instanceof AdaLoraRecoveryRunner adaLora) {
      return Optional.of(adaLora.provenance());
    }
    return Optional.empty();
  }

  /**
   * Both data fingerprints in the stores' form: {@code train:<sha>,validation:<sha>}, as recovered models'
   * provenance carries them.
   */
  public String dataFingerprint() {
    return "train:" + trainingDataFingerprint + ",validation:" + validationDataFingerprint;
  }

  /**
   * The runner's fingerprint ({@link org.rankadaptor.RecoveryRunner#fingerprint()}) in the stores' form:
   * {@code model:<sha>;train:<sha>,validation:<sha>;settings:{...}}, preceded by {@code adalora:{...};} for
   * an AdaLoRA runner, the settings as {@link RecoverySettings#describe()} and
   * {@link AdaLoraSettings#describe()} print them.
   */
  public String fingerprint() {
    String lora = "model:" + modelFingerprint + ";" + dataFingerprint() + ";settings:" + settings.describe();
    return adaLora == null ? lora : "adalora:" + adaLora.describe() + ";" + lora;
  }
}
