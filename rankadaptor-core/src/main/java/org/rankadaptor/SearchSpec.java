package org.rankadaptor;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Everything a search needs. Build one with {@link #builder} and hand it to
 * {@link RankAdaptor#search(SearchSpec)}.
 *
 * @param <M> the recovered model type shared by the runner and the evaluator
 */
public final class SearchSpec<M> {
  private final PerformanceModel model;
  private final RecoveryRunner<M> runner;
  private final Evaluator<M> evaluator;
  private final ObservationStore store;
  private final long seed;
  private final long recoverySeed;
  private final int candidatesPerIteration;
  private final double localCandidateFraction;
  private final int warmupEvaluations;
  private final int maxEvaluations;
  private final Duration maxWallTime; // null: none
  private final double convergenceThreshold;
  private final int convergencePatience;
  private final Acquisition acquisition;
  private final boolean metaLearning;
  private final Set<String> sourceTasks; // empty: every other task in the store
  private final List<SearchListener> listeners;

  private SearchSpec(Builder<M> b) {
    this.model = b.model;
    this.runner = b.runner;
    this.evaluator = b.evaluator;
    this.store = b.store;
    this.seed = b.seed;
    this.recoverySeed = b.recoverySeed != null ? b.recoverySeed : b.seed;
    this.candidatesPerIteration = b.candidatesPerIteration;
    this.localCandidateFraction = b.localCandidateFraction;
    this.warmupEvaluations = b.warmupEvaluations;
    this.maxEvaluations = b.maxEvaluations;
    this.maxWallTime = b.maxWallTime;
    this.convergenceThreshold = b.convergenceThreshold;
    this.convergencePatience = b.convergencePatience;
    this.acquisition = b.acquisition;
    this.metaLearning = b.metaLearning;
    this.sourceTasks = ImmutableSet.copyOf(b.sourceTasks);
    this.listeners = ImmutableList.copyOf(b.listeners);
  }

  /**
   * Starts a specification.
   *
   * @param model the performance model; its {@link PerformanceModel#space()} is the search space
   * @param runner recovers the pruned model for a configuration
   * @param evaluator scores a recovered model; its task id names the target task
   */
  public static <M> Builder<M> builder(PerformanceModel model, RecoveryRunner<M> runner, Evaluator<M> evaluator) {
    return new Builder<>(model, runner, evaluator);
  }

  public RankSpace space() {
    return model.space();
  }

  public PerformanceModel model() {
    return model;
  }

  public RecoveryRunner<M> runner() {
    return runner;
  }

  public Evaluator<M> evaluator() {
    return evaluator;
  }

  public ObservationStore store() {
    return store;
  }

  /** Seed of the search's own random choices (warm-up sample, candidates, acquisition). */
  public long seed() {
    return seed;
  }

  /** Seed passed to every recovery, the same for every configuration so comparisons are paired. */
  public long recoverySeed() {
    return recoverySeed;
  }

  public int candidatesPerIteration() {
    return candidatesPerIteration;
  }

  /** Share of each iteration's candidates that are mutations of the best configurations so far. */
  public double localCandidateFraction() {
    return localCandidateFraction;
  }

  public int warmupEvaluations() {
    return warmupEvaluations;
  }

  /** Budget of evaluations, warm-up included. */
  public int maxEvaluations() {
    return maxEvaluations;
  }

  public Optional<Duration> maxWallTime() {
    return Optional.ofNullable(maxWallTime);
  }

  public double convergenceThreshold() {
    return convergenceThreshold;
  }

  public int convergencePatience() {
    return convergencePatience;
  }

  public Acquisition acquisition() {
    return acquisition;
  }

  public boolean metaLearning() {
    return metaLearning;
  }

  /** Source tasks for meta-learning; empty means every task in the store other than the target. */
  public Set<String> sourceTasks() {
    return sourceTasks;
  }

  public List<SearchListener> listeners() {
    return listeners;
  }

  /** Builds a {@link SearchSpec}; only the seed has no default and must be given. */
  public static final class Builder<M> {
    private final PerformanceModel model;
    private final RecoveryRunner<M> runner;
    private final Evaluator<M> evaluator;
    private ObservationStore store = ObservationStore.inMemory();
    private Long seedOrNull;
    private long seed;
    private Long recoverySeed;
    private int candidatesPerIteration = 100_000;
    private double localCandidateFraction = 0.5;
    private int warmupEvaluations = 0;
    private int maxEvaluations = 30;
    private Duration maxWallTime;
    private double convergenceThreshold = 0.01;
    private int convergencePatience = 1;
    private Acquisition acquisition = Acquisition.greedy();
    private boolean metaLearning = true;
    private final List<String> sourceTasks = new ArrayList<>();
    private final List<SearchListener> listeners = new ArrayList<>();

    private Builder(PerformanceModel model, RecoveryRunner<M> runner, Evaluator<M> evaluator) {
      this.model = Objects.requireNonNull(model, "model");
      this.runner = Objects.requireNonNull(runner, "runner");
      this.evaluator = Objects.requireNonNull(evaluator, "evaluator");
    }

    /** Where every evaluation is persisted as it happens; a store with earlier evaluations resumes. */
    public Builder<M> store(ObservationStore value) {
      this.store = Objects.requireNonNull(value, "store");
      return this;
    }

    /** Seed of the search's random choices. Required. */
    public Builder<M> seed(long value) {
      this.seedOrNull = value;
      this.seed = value;
      return this;
    }

    /** Seed of every recovery (default: the search seed). */
    public Builder<M> recoverySeed(long value) {
      this.recoverySeed = value;
      return this;
    }

    /** Candidates sampled and predicted per iteration (default 100,000). */
    public Builder<M> candidatesPerIteration(int value) {
      checkArgument(value >= 1, "candidates per iteration must be >= 1, got %s", value);
      this.candidatesPerIteration = value;
      return this;
    }

    /**
     * Share of each iteration's candidates drawn as mutations (1 to 3 layers) of the five best
     * configurations evaluated so far, the rest uniformly from the space (default 0.5; 0 samples only
     * uniformly, as the paper describes).
     */
    public Builder<M> localCandidateFraction(double value) {
      checkArgument(value >= 0 && value <= 1, "local candidate fraction must be in [0, 1], got %s", value);
      this.localCandidateFraction = value;
      return this;
    }

    /** Seeded random configurations evaluated before the first iteration (default 0). */
    public Builder<M> warmupEvaluations(int value) {
      checkArgument(value >= 0, "warm-up evaluations must be >= 0, got %s", value);
      this.warmupEvaluations = value;
      return this;
    }

    /** Budget of evaluations, warm-up included (default 30). */
    public Builder<M> maxEvaluations(int value) {
      checkArgument(value >= 1, "max evaluations must be >= 1, got %s", value);
      this.maxEvaluations = value;
      return this;
    }

    /** Wall-time budget; checked before each new evaluation (default none). */
    public Builder<M> maxWallTime(Duration value) {
      checkArgument(value != null && !value.isNegative() && !value.isZero(), "wall time must be positive");
      this.maxWallTime = value;
      return this;
    }

    /**
     * The convergence rule: stop once {@code |predicted - measured| <= threshold} for {@code patience}
     * consecutive iterations (defaults 0.01 and 1, as in the paper).
     */
    public Builder<M> convergence(double threshold, int patience) {
      checkArgument(threshold >= 0 && Double.isFinite(threshold), "threshold must be finite and >= 0, got %s", threshold);
      checkArgument(patience >= 1, "patience must be >= 1, got %s", patience);
      this.convergenceThreshold = threshold;
      this.convergencePatience = patience;
      return this;
    }

    /** How predictions become a choice (default {@link Acquisition#greedy()}). */
    public Builder<M> acquisition(Acquisition value) {
      this.acquisition = Objects.requireNonNull(value, "acquisition");
      return this;
    }

    /** Whether to meta-learn from other tasks' observations in the store first (default true). */
    public Builder<M> metaLearning(boolean value) {
      this.metaLearning = value;
      return this;
    }

    /** Restricts meta-learning to these source tasks (default: every other task in the store). */
    public Builder<M> sourceTasks(String... taskIds) {
      this.sourceTasks.addAll(List.of(taskIds));
      return this;
    }

    public Builder<M> listener(SearchListener value) {
      this.listeners.add(Objects.requireNonNull(value, "listener"));
      return this;
    }

    /**
     * @throws IllegalStateException if no seed was given, the target is among the source tasks, the
     *     acquisition needs uncertainty the model lacks, or the warm-up exceeds the budget
     */
    public SearchSpec<M> build() {
      checkState(seedOrNull != null, "a search needs an explicit seed: call seed(long)");
      checkState(
          !sourceTasks.contains(evaluator.taskId()),
          "the target task %s cannot also be a source task",
          evaluator.taskId());
      checkState(
          !acquisition.needsUncertainty() || model.hasUncertainty(),
          "acquisition %s needs a performance model with uncertainty",
          acquisition.name());
      checkState(
          warmupEvaluations <= maxEvaluations,
          "%s warm-up evaluations exceed the budget of %s",
          warmupEvaluations,
          maxEvaluations);
      return new SearchSpec<>(this);
    }
  }
}
