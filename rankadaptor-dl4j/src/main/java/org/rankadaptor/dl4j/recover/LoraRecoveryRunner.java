package org.rankadaptor.dl4j.recover;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.rankadaptor.InvalidRankConfigException;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RecoveryFailedException;
import org.rankadaptor.RecoveryRunner;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;

/**
 * Recovers a (pruned) model for a rank configuration by LoRA fine-tuning, as LLM-Pruner and the paper
 * do: adapters with each layer's rank (none where it is 0) on the frozen model, trained with AdamW,
 * warmup and decay, gradient accumulation and clipping, and held-out validation at intervals; the
 * state with the lowest validation loss (possibly the untrained one) is kept.
 *
 * <p>Every random choice comes from the seed passed to {@link #recover}: adapter initialisation (a
 * stream per layer and projection), the order of the training examples (the same for every rank
 * configuration, so that comparisons between configurations are paired) and the dropout masks.
 *
 * <pre>{@code
 * LoraRecoveryRunner runner = LoraRecoveryRunner.builder(prunedModel, split.train(), split.validation())
 *     .settings(RecoverySettings.paper())
 *     .build();
 * RecoveredModel recovered = runner.recover(RankConfig.uniform(32, 8), 42);
 * }</pre>
 *
 * <p>A run whose loss or gradient becomes non-finite, or whose loss exceeds {@link
 * RecoverySettings#divergenceFactor()} times the first step's, stops and throws {@link
 * RecoveryFailedException}, which a search records as a failed observation.
 *
 * @since 0.1.0
 */
public final class LoraRecoveryRunner implements RecoveryRunner<RecoveredModel> {

  private final RecoveryInputs inputs;
  private final RecoverySettings settings;
  private final List<RecoveryListener> listeners;
  private final AdapterTraining.LossTap lossTap;

  private LoraRecoveryRunner(Builder b) {
    this.settings = b.settings;
    this.listeners = List.copyOf(b.listeners);
    this.lossTap = b.lossTap;
    this.inputs = new RecoveryInputs(b.model, b.train, b.validation, settings);
  }

  /**
   * Starts a runner.
   *
   * @param model the frozen model to recover
   * @param train training examples, such as from {@link AlpacaData#load} or {@link TextWindows}
   * @param validation held-out examples for the validation loss; at least one with a target
   */
  public static Builder builder(LlamaModel model, TrainingData train, TrainingData validation) {
    return new Builder(model, train, validation);
  }

  /** The settings. */
  public RecoverySettings settings() {
    return settings;
  }

  @Override
  public RecoveredModel recover(RankConfig config, long seed) {
    Nd4jRuntime.ensureInitialized();
    LlamaModel model = inputs.model;
    if (config.length() != model.config().nLayers()) {
      throw new InvalidRankConfigException(
          "rank configuration " + config + " has " + config.length() + " layers; the model has "
              + model.config().nLayers());
    }
    int[] ranks = config.toArray();
    double[] alphas = new double[ranks.length];
    for (int l = 0; l < ranks.length; l++) {
      alphas[l] = settings.alpha().alpha(ranks[l]);
    }
    LoraTraining trainable = new LoraTraining(LoraAdapters.init(
        model.config(), ranks, alphas, settings.targets(), settings.dropout(), seed, model.dataType()));
    TrainingLog log = new AdapterTraining(inputs, settings, listeners, lossTap, config, seed, trainable)
        .run(inputs.totalSteps(settings));
    RecoveryProvenance made = provenance();
    Provenance provenance =
        new Provenance(seed, made.modelFingerprint(), made.dataFingerprint(), settings.describe())
            .withSetting("ranks", config.format());
    return new RecoveredModel(model, trainable.kept(), config, log, provenance);
  }

  /**
   * What every recovery of this runner depends on: its settings and fingerprints of the model's weights and
   * of the data. The first call hashes every weight of the model.
   */
  public RecoveryProvenance provenance() {
    return inputs.provenance(LoraRecoveryRunner.class, settings, null);
  }

  /**
   * Model weights, data and settings ({@link RecoveryProvenance#fingerprint()}): a recovery with equal
   * fingerprint and seed gives equal adapters.
   */
  @Override
  public String fingerprint() {
    return provenance().fingerprint();
  }

  /** Settings of a {@link LoraRecoveryRunner}. */
  public static final class Builder {
    private final LlamaModel model;
    private final TrainingData train;
    private final TrainingData validation;
    private RecoverySettings settings = RecoverySettings.paper();
    private final List<RecoveryListener> listeners = new ArrayList<>();
    private AdapterTraining.LossTap lossTap;

    private Builder(LlamaModel model, TrainingData train, TrainingData validation) {
      this.model = Objects.requireNonNull(model, "model");
      this.train = Objects.requireNonNull(train, "train");
      this.validation = Objects.requireNonNull(validation, "validation");
    }

    /** How to train; default {@link RecoverySettings#paper()}. */
    public Builder settings(RecoverySettings value) {
      this.settings = Objects.requireNonNull(value, "settings");
      return this;
    }

    /** Adds a progress listener. */
    public Builder listener(RecoveryListener value) {
      listeners.add(Objects.requireNonNull(value, "listener"));
      return this;
    }

    /** Routes every micro-batch loss through {@code tap}, whose result the runner uses. */
    Builder lossTap(AdapterTraining.LossTap tap) {
      this.lossTap = tap;
      return this;
    }

    /**
     * The runner.
     *
     * @throws IllegalArgumentException when the training or validation data has no usable example
     */
    public LoraRecoveryRunner build() {
      return new LoraRecoveryRunner(this);
    }
  }
}
