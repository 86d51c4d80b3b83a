package org.rankadaptor.dl4j.predictor;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import com.google.common.primitives.Ints;
import java.util.List;

/**
 * Settings of an {@link MlpPerformanceModel}: the network's shape, the ensemble, the seed and the
 * training schedules. Immutable; start from {@link #paper()} and change what you need with the
 * {@code with...} methods.
 *
 * @param hidden widths of the hidden ReLU layers, in order (the paper: 32-32-32)
 * @param ensembleSize number of differently seeded networks; 1 means no uncertainty
 * @param seed seed of every random choice (weight initialisation, mini-batches, task order)
 * @param learningRate Adam learning rate of online updates and {@link MlpPerformanceModel#fit}
 * @param l2 L2 penalty on the weights (0 for none)
 * @param batchSize mini-batch size of every training step
 * @param epochs passes over the data in {@link MlpPerformanceModel#fit}
 * @param stepsPerObservation Adam steps an online update takes per new observation
 * @param minUpdateSteps fewest Adam steps of one online update, however few observations it brings
 * @param replayCapacity most target observations kept for replay (the most recent ones)
 * @param metaIterations Reptile outer iterations in {@link MlpPerformanceModel#metaLearn}
 * @param metaInnerSteps Adam steps on one source task per Reptile iteration
 * @param metaStepSize Reptile's outer step size at the first iteration, annealed linearly to 0
 * @since 0.1.0
 */
public record MlpConfig(
    List<Integer> hidden,
    int ensembleSize,
    long seed,
    double learningRate,
    double l2,
    int batchSize,
    int epochs,
    int stepsPerObservation,
    int minUpdateSteps,
    int replayCapacity,
    int metaIterations,
    int metaInnerSteps,
    double metaStepSize) {

  /** The largest hidden width accepted; the scorer keeps activations of this width per candidate. */
  public static final int MAX_WIDTH = 4096;

  private static final double L2 = 3e-2;

  /** Checks every setting's range, naming the one out of it; copies the widths. */
  public MlpConfig {
    checkArgument(hidden != null && !hidden.isEmpty(), "the network needs at least one hidden layer");
    for (Integer width : hidden) {
      checkArgument(width != null && width >= 1 && width <= MAX_WIDTH,
          "hidden widths must be in 1..%s, got %s", MAX_WIDTH, hidden);
    }
    hidden = ImmutableList.copyOf(hidden);
    checkArgument(ensembleSize >= 1 && ensembleSize <= 64, "ensemble size must be in 1..64, got %s", ensembleSize);
    checkArgument(learningRate > 0 && Double.isFinite(learningRate), "learning rate must be > 0, got %s", learningRate);
    checkArgument(l2 >= 0 && Double.isFinite(l2), "l2 must be finite and >= 0, got %s", l2);
    checkArgument(batchSize >= 1, "batch size must be >= 1, got %s", batchSize);
    checkArgument(epochs >= 1, "epochs must be >= 1, got %s", epochs);
    checkArgument(stepsPerObservation >= 1, "steps per observation must be >= 1, got %s", stepsPerObservation);
    checkArgument(minUpdateSteps >= 1, "minimum update steps must be >= 1, got %s", minUpdateSteps);
    checkArgument(replayCapacity >= 1, "replay capacity must be >= 1, got %s", replayCapacity);
    checkArgument(metaIterations >= 1, "meta iterations must be >= 1, got %s", metaIterations);
    checkArgument(metaInnerSteps >= 1, "meta inner steps must be >= 1, got %s", metaInnerSteps);
    checkArgument(metaStepSize > 0 && metaStepSize <= 1, "meta step size must be in (0, 1], got %s", metaStepSize);
  }

  /**
   * The paper's network (hidden 32-32-32) in an ensemble of 5, seed 0, Adam at 1e-3 with an L2 penalty of
   * 0.03 and batches of 32, 300 epochs for a full fit, 8 steps per new observation (at least 32 per update), a replay of
   * up to 512 observations, and Reptile with 400 iterations of 16 inner steps and outer step 0.5.
   */
  public static MlpConfig paper() {
    return new MlpConfig(List.of(32, 32, 32), 5, 0, 1e-3, L2, 32, 300, 8, 32, 512, 400, 16, 0.5);
  }

  /** The ablation with a wider middle layer: hidden 32-64-32. */
  public static MlpConfig wideAblation() {
    return paper().withHidden(32, 64, 32);
  }

  /** The ablation with a narrower middle layer: hidden 32-16-32. */
  public static MlpConfig narrowAblation() {
    return paper().withHidden(32, 16, 32);
  }

  /** A copy with these hidden layer widths. */
  public MlpConfig withHidden(int... widths) {
    return new MlpConfig(Ints.asList(widths.clone()), ensembleSize, seed, learningRate, l2, batchSize, epochs,
        stepsPerObservation, minUpdateSteps, replayCapacity, metaIterations, metaInnerSteps, metaStepSize);
  }

  /** A copy with this many networks in the ensemble. */
  public MlpConfig withEnsembleSize(int value) {
    return new MlpConfig(hidden, value, seed, learningRate, l2, batchSize, epochs, stepsPerObservation,
        minUpdateSteps, replayCapacity, metaIterations, metaInnerSteps, metaStepSize);
  }

  /** A copy with this seed of fresh networks. */
  public MlpConfig withSeed(long value) {
    return new MlpConfig(hidden, ensembleSize, value, learningRate, l2, batchSize, epochs, stepsPerObservation,
        minUpdateSteps, replayCapacity, metaIterations, metaInnerSteps, metaStepSize);
  }

  /** A copy with this Adam learning rate. */
  public MlpConfig withLearningRate(double value) {
    return new MlpConfig(hidden, ensembleSize, seed, value, l2, batchSize, epochs, stepsPerObservation,
        minUpdateSteps, replayCapacity, metaIterations, metaInnerSteps, metaStepSize);
  }

  /** A copy with this L2 weight penalty. */
  public MlpConfig withL2(double value) {
    return new MlpConfig(hidden, ensembleSize, seed, learningRate, value, batchSize, epochs, stepsPerObservation,
        minUpdateSteps, replayCapacity, metaIterations, metaInnerSteps, metaStepSize);
  }

  /** A copy with this many epochs of training. */
  public MlpConfig withEpochs(int value) {
    return new MlpConfig(hidden, ensembleSize, seed, learningRate, l2, batchSize, value, stepsPerObservation,
        minUpdateSteps, replayCapacity, metaIterations, metaInnerSteps, metaStepSize);
  }

  /** Online update schedule: steps per new observation and the fewest steps of one update. */
  public MlpConfig withUpdateSteps(int perObservation, int minimum) {
    return new MlpConfig(hidden, ensembleSize, seed, learningRate, l2, batchSize, epochs, perObservation,
        minimum, replayCapacity, metaIterations, metaInnerSteps, metaStepSize);
  }

  /** Reptile schedule: outer iterations, inner steps per iteration, initial outer step size. */
  public MlpConfig withMeta(int iterations, int innerSteps, double stepSize) {
    return new MlpConfig(hidden, ensembleSize, seed, learningRate, l2, batchSize, epochs, stepsPerObservation,
        minUpdateSteps, replayCapacity, iterations, innerSteps, stepSize);
  }

  /** The layer widths from input to output: {@code inputs}, the hidden widths, then 1. */
  int[] widths(int inputs) {
    int[] widths = new int[hidden.size() + 2];
    widths[0] = inputs;
    for (int i = 0; i < hidden.size(); i++) {
      widths[i + 1] = hidden.get(i);
    }
    widths[widths.length - 1] = 1;
    return widths;
  }

  /**
   * A builder holding these settings, to change some by name:
   * {@code MlpConfig.paper().toBuilder().warmupSteps(10).build()}.
   */
  public Builder toBuilder() {
    Builder b = new Builder();
      b.hidden = hidden;
      b.ensembleSize = ensembleSize;
      b.seed = seed;
      b.learningRate = learningRate;
      b.l2 = l2;
      b.batchSize = batchSize;
      b.epochs = epochs;
      b.stepsPerObservation = stepsPerObservation;
      b.minUpdateSteps = minUpdateSteps;
      b.replayCapacity = replayCapacity;
      b.metaIterations = metaIterations;
      b.metaInnerSteps = metaInnerSteps;
      b.metaStepSize = metaStepSize;
    return b;
  }

  /**
   * Settings by name, so that none of the numbers can be swapped; start from a preset's {@code toBuilder()}.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    private List<Integer> hidden;
    private int ensembleSize;
    private long seed;
    private double learningRate;
    private double l2;
    private int batchSize;
    private int epochs;
    private int stepsPerObservation;
    private int minUpdateSteps;
    private int replayCapacity;
    private int metaIterations;
    private int metaInnerSteps;
    private double metaStepSize;

    private Builder() {}

    /** Widths of the hidden ReLU layers, in order (the paper: 32-32-32). */
    public Builder hidden(List<Integer> value) {
      this.hidden = value;
      return this;
    }

    /** Number of differently seeded networks; 1 means no uncertainty. */
    public Builder ensembleSize(int value) {
      this.ensembleSize = value;
      return this;
    }

    /** Seed of every random choice (weight initialisation, mini-batches, task order). */
    public Builder seed(long value) {
      this.seed = value;
      return this;
    }

    /** Adam learning rate of online updates and {@link MlpPerformanceModel#fit}. */
    public Builder learningRate(double value) {
      this.learningRate = value;
      return this;
    }

    /** L2 penalty on the weights (0 for none). */
    public Builder l2(double value) {
      this.l2 = value;
      return this;
    }

    /** Mini-batch size of every training step. */
    public Builder batchSize(int value) {
      this.batchSize = value;
      return this;
    }

    /** Passes over the data in {@link MlpPerformanceModel#fit}. */
    public Builder epochs(int value) {
      this.epochs = value;
      return this;
    }

    /** Adam steps an online update takes per new observation. */
    public Builder stepsPerObservation(int value) {
      this.stepsPerObservation = value;
      return this;
    }

    /** Fewest Adam steps of one online update, however few observations it brings. */
    public Builder minUpdateSteps(int value) {
      this.minUpdateSteps = value;
      return this;
    }

    /** Most target observations kept for replay (the most recent ones). */
    public Builder replayCapacity(int value) {
      this.replayCapacity = value;
      return this;
    }

    /** Reptile outer iterations in {@link MlpPerformanceModel#metaLearn}. */
    public Builder metaIterations(int value) {
      this.metaIterations = value;
      return this;
    }

    /** Adam steps on one source task per Reptile iteration. */
    public Builder metaInnerSteps(int value) {
      this.metaInnerSteps = value;
      return this;
    }

    /** Reptile's outer step size at the first iteration, annealed linearly to 0. */
    public Builder metaStepSize(double value) {
      this.metaStepSize = value;
      return this;
    }

    /**
     * The settings.
     *
     * @throws IllegalArgumentException naming the setting out of range
     */
    public MlpConfig build() {
      return new MlpConfig(hidden, ensembleSize, seed, learningRate, l2, batchSize, epochs, stepsPerObservation, minUpdateSteps, replayCapacity, metaIterations, metaInnerSteps, metaStepSize);
    }
  }
}
