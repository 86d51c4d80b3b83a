package org.rankadaptor.dl4j.recover;

import java.lang.reflect.RecordComponent;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.rankadaptor.dl4j.io.LoraTarget;

/**
 * How a LoRA recovery trains. An optimiser step uses {@code batchSize} examples, computed as {@code
 * batchSize / microBatchSize} micro-batches whose gradients are accumulated, each weighted by its share
 * of the step's target tokens (so the step's gradient is that of the mean loss over all its target
 * tokens).
 *
 * @param learningRate peak learning rate of AdamW
 * @param epochs passes over the training data; ignored when {@code maxSteps > 0}
 * @param maxSteps optimiser steps to take regardless of epochs (the data is cycled); 0: {@code epochs}
 *     decide
 * @param batchSize examples per optimiser step; a multiple of {@code microBatchSize}
 * @param microBatchSize examples per forward/backward pass
 * @param warmupSteps optimiser steps of linear learning-rate warmup
 * @param cutoffLength longest training or validation sequence; longer examples are cut
 * @param weightDecay AdamW's decoupled weight decay
 * @param evalInterval optimiser steps between validation losses (also measured before the first and
 *     after the last step); 0: only those two
 * @param maxGradNorm the global gradient norm is clipped to this; 0: no clipping
 * @param decay learning-rate decay after warmup
 * @param dropout LoRA dropout probability
 * @param alpha LoRA alpha of each layer from its rank
 * @param targets the projections that get adapters
 * @param divergenceFactor a step's loss above this multiple of the first step's loss is a divergence
 * @since 0.1.0
 */
public record RecoverySettings(
    double learningRate,
    int epochs,
    int maxSteps,
    int batchSize,
    int microBatchSize,
    int warmupSteps,
    int cutoffLength,
    double weightDecay,
    int evalInterval,
    double maxGradNorm,
    LearningRateSchedule.Decay decay,
    double dropout,
    AlphaRule alpha,
    Set<LoraTarget> targets,
    double divergenceFactor) {

  /** Settings that {@link #describe()} names otherwise than the record does. */
  private static final Map<String, String> SHORT_NAMES = Map.of("learningRate", "lr");

  /** Validates the settings and freezes the target set. */
  public RecoverySettings {
    require(learningRate > 0 && Double.isFinite(learningRate), "learningRate", learningRate);
    require(epochs >= 1, "epochs", epochs);
    require(maxSteps >= 0, "maxSteps", maxSteps);
    require(microBatchSize >= 1, "microBatchSize", microBatchSize);
    require(batchSize >= microBatchSize && batchSize % microBatchSize == 0, "batchSize (a multiple of "
        + "microBatchSize " + microBatchSize + ")", batchSize);
    require(warmupSteps >= 0, "warmupSteps", warmupSteps);
    require(cutoffLength >= 2, "cutoffLength", cutoffLength);
    require(weightDecay >= 0, "weightDecay", weightDecay);
    require(evalInterval >= 0, "evalInterval", evalInterval);
    require(maxGradNorm >= 0, "maxGradNorm", maxGradNorm);
    require(dropout >= 0 && dropout < 1, "dropout", dropout);
    require(divergenceFactor > 1, "divergenceFactor", divergenceFactor);
    if (decay == null || alpha == null || targets == null || targets.isEmpty()) {
      throw new IllegalArgumentException("decay, alpha and a non-empty set of targets are required");
    }
    targets = Collections.unmodifiableSet(EnumSet.copyOf(targets));
  }

  private static void require(boolean ok, String name, double value) {
    if (!ok) {
      throw new IllegalArgumentException("recovery setting " + name + " has invalid value " + value);
    }
  }

  /**
   * The recovery of LLM-Pruner's and the paper's baselines (alpaca-lora's Trainer): LoRA alpha 2 * rank
   * (r 8 / alpha 16), dropout 0.05 on all seven projections, AdamW at 1e-4 without weight decay, 2
   * epochs, batch 64 from micro-batches of 4, 100 warmup steps then linear decay, cutoff 256, gradient
   * norm clipped at 1 (the Trainer's default), validation every 200 steps.
   */
  public static RecoverySettings paper() {
    return new RecoverySettings(
        1e-4, 2, 0, 64, 4, 100, 256, 0.0, 200, 1.0, LearningRateSchedule.Decay.LINEAR, 0.05,
        AlphaRule.timesRank(2), EnumSet.allOf(LoraTarget.class), 10.0);
  }

  /**
   * A short run for tiny models and tests: 24 steps of batch 8 (micro-batches of 4) at 5e-3, 3 warmup
   * steps then linear decay, cutoff 64, validation every 8 steps; LoRA as in {@link #paper()}.
   */
  public static RecoverySettings tiny() {
    return new RecoverySettings(
        5e-3, 1, 24, 8, 4, 3, 64, 0.0, 8, 1.0, LearningRateSchedule.Decay.LINEAR, 0.05,
        AlphaRule.timesRank(2), EnumSet.allOf(LoraTarget.class), 10.0);
  }

  /** A copy with another peak learning rate. */
  public RecoverySettings withLearningRate(double value) {
    return new RecoverySettings(value, epochs, maxSteps, batchSize, microBatchSize, warmupSteps,
        cutoffLength, weightDecay, evalInterval, maxGradNorm, decay, dropout, alpha, targets, divergenceFactor);
  }

  /** A copy that takes exactly {@code value} optimiser steps (0: as many as the epochs give). */
  public RecoverySettings withMaxSteps(int value) {
    return new RecoverySettings(learningRate, epochs, value, batchSize, microBatchSize, warmupSteps,
        cutoffLength, weightDecay, evalInterval, maxGradNorm, decay, dropout, alpha, targets, divergenceFactor);
  }

  /** A copy with another validation interval. */
  public RecoverySettings withEvalInterval(int value) {
    return new RecoverySettings(learningRate, epochs, maxSteps, batchSize, microBatchSize, warmupSteps,
        cutoffLength, weightDecay, value, maxGradNorm, decay, dropout, alpha, targets, divergenceFactor);
  }

  /** A copy with other batch sizes. */
  public RecoverySettings withBatch(int batch, int microBatch) {
    return new RecoverySettings(learningRate, epochs, maxSteps, batch, microBatch, warmupSteps,
        cutoffLength, weightDecay, evalInterval, maxGradNorm, decay, dropout, alpha, targets, divergenceFactor);
  }

  /** A copy with other LoRA settings. */
  public RecoverySettings withLora(AlphaRule newAlpha, double newDropout, Set<LoraTarget> newTargets) {
    return new RecoverySettings(learningRate, epochs, maxSteps, batchSize, microBatchSize, warmupSteps,
        cutoffLength, weightDecay, evalInterval, maxGradNorm, decay, newDropout, newAlpha, newTargets,
        divergenceFactor);
  }

  /**
   * Every setting as text, sorted by name: for provenance and fingerprints. Read from the record's
   * components, so a new setting appears without further code: a number as {@code toString} prints it, an
   * enum by name, alpha as {@link AlphaRule#describe()}, the targets as a list. {@code learningRate} keeps
   * its old short name {@code lr}: observation stores match earlier measurements by this text (see {@link
   * RecoveryProvenance#fingerprint()}), so its form must not change.
   */
  public Map<String, String> describe() {
    Map<String, String> m = new TreeMap<>();
    for (RecordComponent c : RecoverySettings.class.getRecordComponents()) {
      Object value;
      try {
        value = c.getAccessor().invoke(this);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("recovery setting " + c.getName() + " cannot be read", e);
      }
      m.put(SHORT_NAMES.getOrDefault(c.getName(), c.getName()), describe(value));
    }
    return m;
  }

  private static String describe(Object value) {
    if (value instanceof AlphaRule rule) {
      return rule.describe();
    }
    if (value instanceof Enum<?> constant) {
      return constant.name();
    }
    return String.valueOf(value);
  }

  /**
   * A builder holding these settings, to change some by name:
   * {@code RecoverySettings.paper().toBuilder().warmupSteps(10).build()}.
   */
  public Builder toBuilder() {
    Builder b = new Builder();
      b.learningRate = learningRate;
      b.epochs = epochs;
      b.maxSteps = maxSteps;
      b.batchSize = batchSize;
      b.microBatchSize = microBatchSize;
      b.warmupSteps = warmupSteps;
      b.cutoffLength = cutoffLength;
      b.weightDecay = weightDecay;
      b.evalInterval = evalInterval;
      b.maxGradNorm = maxGradNorm;
      b.decay = decay;
      b.dropout = dropout;
      b.alpha = alpha;
      b.targets = targets;
      b.divergenceFactor = divergenceFactor;
    return b;
  }

  /**
   * Settings by name, so that none of the numbers can be swapped; start from a preset's {@code toBuilder()}.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    private double learningRate;
    private int epochs;
    private int maxSteps;
    private int batchSize;
    private int microBatchSize;
    private int warmupSteps;
    private int cutoffLength;
    private double weightDecay;
    private int evalInterval;
    private double maxGradNorm;
    private LearningRateSchedule.Decay decay;
    private double dropout;
    private AlphaRule alpha;
    private Set<LoraTarget> targets;
    private double divergenceFactor;

    private Builder() {}

    /** Peak learning rate of AdamW. */
    public Builder learningRate(double value) {
      this.learningRate = value;
      return this;
    }

    /** Passes over the training data; ignored when {@code maxSteps > 0}. */
    public Builder epochs(int value) {
      this.epochs = value;
      return this;
    }

    /** Optimiser steps to take regardless of epochs (the data is cycled); 0: {@code epochs} decide. */
    public Builder maxSteps(int value) {
      this.maxSteps = value;
      return this;
    }

    /** Examples per optimiser step; a multiple of {@code microBatchSize}. */
    public Builder batchSize(int value) {
      this.batchSize = value;
      return this;
    }

    /** Examples per forward/backward pass. */
    public Builder microBatchSize(int value) {
      this.microBatchSize = value;
      return this;
    }

    /** Optimiser steps of linear learning-rate warmup. */
    public Builder warmupSteps(int value) {
      this.warmupSteps = value;
      return this;
    }

    /** Longest training or validation sequence; longer examples are cut. */
    public Builder cutoffLength(int value) {
      this.cutoffLength = value;
      return this;
    }

    /** AdamW's decoupled weight decay. */
    public Builder weightDecay(double value) {
      this.weightDecay = value;
      return this;
    }

    /** Optimiser steps between validation losses (also measured before the first and after the last step); 0: only those two. */
    public Builder evalInterval(int value) {
      this.evalInterval = value;
      return this;
    }

    /** The global gradient norm is clipped to this; 0: no clipping. */
    public Builder maxGradNorm(double value) {
      this.maxGradNorm = value;
      return this;
    }

    /** Learning-rate decay after warmup. */
    public Builder decay(LearningRateSchedule.Decay value) {
      this.decay = value;
      return this;
    }

    /** LoRA dropout probability. */
    public Builder dropout(double value) {
      this.dropout = value;
      return this;
    }

    /** LoRA alpha of each layer from its rank. */
    public Builder alpha(AlphaRule value) {
      this.alpha = value;
      return this;
    }

    /** The projections that get adapters. */
    public Builder targets(Set<LoraTarget> value) {
      this.targets = value;
      return this;
    }

    /** A step's loss above this multiple of the first step's loss is a divergence. */
    public Builder divergenceFactor(double value) {
      this.divergenceFactor = value;
      return this;
    }

    /**
     * The settings.
     *
     * @throws IllegalArgumentException naming the setting out of range
     */
    public RecoverySettings build() {
      return new RecoverySettings(learningRate, epochs, maxSteps, batchSize, microBatchSize, warmupSteps, cutoffLength, weightDecay, evalInterval, maxGradNorm, decay, dropout, alpha, targets, divergenceFactor);
    }
  }
}
