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
 * Recovers a (pruned) model with AdaLoRA (Zhang et al., ICLR 2023) as PEFT implements it: adapters in
 * SVD form on the same projections as LoRA, an orthogonality regulariser, and ranks learned during the one
 * fine-tune by masking the least important singular triplets down to a total budget (see {@link
 * AdaLoraSettings} and {@link AdaLoraTraining}). The optimiser, data, schedule, clipping, validation and
 * failure rules are those of {@link LoraRecoveryRunner}, from the same {@link RecoverySettings}; alpha is
 * the settings' alpha at {@code target_r}, so a module at the target rank is scaled as LoRA's would be
 * at that rank times {@code target_r / init_r}.
 *
 * <p>The configuration passed to {@link #recover} gives each layer's initial rank (0: no adapters there);
 * {@link #initialRanks} gives {@code init_r} on every layer, as PEFT does. The budget is {@code target_r}
 * triplets per adapted module on average, uniform rank {@code target_r}'s count of triplets.
 *
 * <pre>{@code
 * AdaLoraRecoveryRunner runner = AdaLoraRecoveryRunner.builder(prunedModel, split.train(), split.validation())
 *     .settings(RecoverySettings.paper())
 *     .build();
 * AdaLoraRecovery result = runner.recoverAdaLora(runner.initialRanks(), 42);
 * System.out.println(result.adapters().describeRanks());
 * }</pre>
 *
 * @since 0.1.0
 */
public final class AdaLoraRecoveryRunner implements RecoveryRunner<RecoveredModel> {

  private final RecoveryInputs inputs;
  private final RecoverySettings settings;
  private final AdaLoraSettings adaLora;
  private final int totalSteps;
  private final List<RecoveryListener> listeners;

  private AdaLoraRecoveryRunner(Builder b) {
    this.settings = b.settings;
    this.listeners = List.copyOf(b.listeners);
    this.inputs = new RecoveryInputs(b.model, b.train, b.validation, settings);
    this.totalSteps = inputs.totalSteps(settings);
    this.adaLora = b.adaLora != null ? b.adaLora : AdaLoraSettings.defaults(totalSteps);
    adaLora.checkSchedule(totalSteps);
  }

  /**
   * Starts a runner.
   *
   * @param model the frozen model to recover
   * @param train training examples
   * @param validation held-out examples for the validation loss
   */
  public static Builder builder(LlamaModel model, TrainingData train, TrainingData validation) {
    return new Builder(model, train, validation);
  }

  /** The recovery settings. */
  public RecoverySettings settings() {
    return settings;
  }

  /** The AdaLoRA settings, defaults filled in. */
  public AdaLoraSettings adaLoraSettings() {
    return adaLora;
  }

  /** Optimiser steps of every recovery: AdaLoRA's {@code total_step}. */
  public int totalSteps() {
    return totalSteps;
  }

  /** {@code init_r} on every layer: PEFT's AdaLoRA on the whole model. */
  public RankConfig initialRanks() {
    return RankConfig.uniform(inputs.model.config().nLayers(), adaLora.initR());
  }

  /** {@link #recoverAdaLora}'s recovered model. */
  @Override
  public RecoveredModel recover(RankConfig initialRanks, long seed) {
    return recoverAdaLora(initialRanks, seed).recovered();
  }

  /**
   * Trains AdaLoRA adapters from these initial ranks.
   *
   * @param initialRanks each layer's initial rank; 0 leaves a layer without adapters
   * @param seed seed of the initial triplets, the data order and the dropout masks
   * @throws InvalidRankConfigException when the configuration's length is not the model's depth, or the
   *     target budget exceeds the initial one
   * @throws RecoveryFailedException when training diverged or never improved on the unrecovered model
   */
  public AdaLoraRecovery recoverAdaLora(RankConfig initialRanks, long seed) {
    Nd4jRuntime.ensureInitialized();
    LlamaModel model = inputs.model;
    if (initialRanks.length() != model.config().nLayers()) {
      throw new InvalidRankConfigException("initial ranks " + initialRanks + " have " + initialRanks.length()
          + " layers; the model has " + model.config().nLayers());
    }
    int[] ranks = initialRanks.toArray();
    long initial = 0;
    long adapted = 0;
    for (int rank : ranks) {
      if (rank < 0) {
        throw new InvalidRankConfigException("initial ranks " + initialRanks + " hold a negative rank");
      }
      initial += rank;
      adapted += rank > 0 ? 1 : 0;
    }
    if (initial < adapted * adaLora.targetR()) {
      throw new InvalidRankConfigException("initial ranks " + initialRanks + " hold fewer triplets than the budget of "
          + "target_r " + adaLora.targetR() + " per adapted module");
    }
    // One rank for every layer: a layer's alpha is LoRA's at the target rank.
    double[] alphas = new double[ranks.length];
    java.util.Arrays.fill(alphas, settings.alpha().alpha(adaLora.targetR()));
    AdaLoraTraining trainable = new AdaLoraTraining(model.config(), ranks, alphas, settings.targets(),
        settings.dropout(), adaLora, totalSteps, seed, model.dataType());
    TrainingLog log = new AdapterTraining(inputs, settings, listeners, null, initialRanks, seed, trainable)
        .run(totalSteps);
    LoraAdapters lora = trainable.kept().toLora();
    RecoveryProvenance made = provenance();
    Provenance provenance = new Provenance(seed, made.modelFingerprint(), made.dataFingerprint(), settings.describe())
        .withSetting("method", "adalora")
        .withSetting("initialRanks", initialRanks.format())
        .withSetting("learnedRanks", trainable.kept().describeRanks())
        .withSetting("layerRanks", java.util.Arrays.stream(trainable.kept().meanLayerRanks())
            .mapToObj(r -> String.format(java.util.Locale.ROOT, "%.2f", r))
            .collect(java.util.stream.Collectors.joining(",")));
    for (var e : adaLora.describe().entrySet()) {
      provenance = provenance.withSetting("adalora." + e.getKey(), e.getValue());
    }
    return new AdaLoraRecovery(new RecoveredModel(model, lora, initialRanks, log, provenance), trainable.kept(),
        adaLora, totalSteps, trainable.budgetTrace(), trainable.regularizerTrace());
  }

  /**
   * What every recovery of this runner depends on: the recovery and AdaLoRA settings and fingerprints of the
   * model's weights and of the data. The first call hashes every weight of the model.
   */
  public RecoveryProvenance provenance() {
    return inputs.provenance(AdaLoraRecoveryRunner.class, settings, adaLora);
  }

  /**
   * Model weights, data, recovery and AdaLoRA settings ({@link RecoveryProvenance#fingerprint()}); distinct
   * from every LoRA runner's.
   */
  @Override
  public String fingerprint() {
    return provenance().fingerprint();
  }

  /** Settings of an {@link AdaLoraRecoveryRunner}. */
  public static final class Builder {
    private final LlamaModel model;
    private final TrainingData train;
    private final TrainingData validation;
    private RecoverySettings settings = RecoverySettings.paper();
    private AdaLoraSettings adaLora;
    private final List<RecoveryListener> listeners = new ArrayList<>();

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

    /** AdaLoRA's settings; default {@link AdaLoraSettings#defaults} for the recovery's length. */
    public Builder adaLora(AdaLoraSettings value) {
      this.adaLora = Objects.requireNonNull(value, "adaLora");
      return this;
    }

    /** Adds a progress listener. */
    public Builder listener(RecoveryListener value) {
      listeners.add(Objects.requireNonNull(value, "listener"));
      return this;
    }

    /**
     * The runner.
     *
     * @throws IllegalArgumentException when the data has no usable example or the schedule leaves no
     *     budgeting phase in the recovery's steps
     */
    public AdaLoraRecoveryRunner build() {
      return new AdaLoraRecoveryRunner(this);
    }
  }
}
