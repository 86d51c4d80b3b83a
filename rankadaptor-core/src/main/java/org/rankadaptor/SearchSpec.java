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

// Longer than most files here because it is a value with about twenty settings, each with its
// accessor, its builder method and its validation, kept together so that a setting is read, defaulted
// and checked in one place.
/**
 * Everything a search needs. Build one with {@link #builder} and hand it to
 * {@link RankAdaptor#search(SearchSpec)}.
 *
 * @param <M> the recovered model type shared by the runner and the evaluator
 * @since 0.1.0
 */
public final class SearchSpec<M> {
  private final RankSpace space;
  private final PerformanceModel model; // null: random search only
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
  private final StoppingRule stoppingRule;
  private final RankConfig anchor; // null: none
  private final List<Long> replicateSeeds;
  private final int finalists;
  private final int confirmationSeeds;
  private final double confidence;
  private final Acquisition acquisition;
  private final boolean metaLearning;
  private final Set<String> sourceTasks; // empty: every other task in the store
  private final List<SearchListener> listeners;
  private final int batchSize;
  private final EvaluationExecutor executor;
  private final java.util.concurrent.atomic.AtomicBoolean searched = new java.util.concurrent.atomic.AtomicBoolean();

  private SearchSpec(Builder<M> b) {
    this.space = b.space;
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
    this.stoppingRule = b.stoppingRule;
    this.anchor = b.anchor;
    this.replicateSeeds = b.resolvedReplicateSeeds;
    this.finalists = b.finalists;
    this.confirmationSeeds = b.confirmationSeeds;
    this.confidence = b.confidence;
    this.acquisition = b.acquisition;
    this.metaLearning = b.metaLearning;
    this.sourceTasks = ImmutableSet.copyOf(b.sourceTasks);
    this.listeners = ImmutableList.copyOf(b.listeners);
    this.batchSize = b.batchSize;
    this.executor = b.executor;
  }

  /**
   * Starts a specification.
   *
   * @param model the performance model; its {@link PerformanceModel#space()} is the search space
   * @param runner recovers the pruned model for a configuration
   * @param evaluator scores a recovered model; its task id names the target task
   */
  public static <M> Builder<M> builder(PerformanceModel model, RecoveryRunner<M> runner, Evaluator<M> evaluator) {
    return new Builder<>(Objects.requireNonNull(model, "model").space(), model, runner, evaluator);
  }

  /**
   * Starts a specification without a performance model, for {@link RankAdaptor#randomSearch} (which
   * needs none); {@link RankAdaptor#search} refuses it.
   */
  public static <M> Builder<M> builder(RankSpace space, RecoveryRunner<M> runner, Evaluator<M> evaluator) {
    return new Builder<>(Objects.requireNonNull(space, "space"), null, runner, evaluator);
  }

  /** The search space: the performance model's, or the one given for random search. */
  public RankSpace space() {
    return space;
  }

  /** The performance model; empty for a specification made for random search. */
  public Optional<PerformanceModel> model() {
    return Optional.ofNullable(model);
  }

  /** Recovers the pruned model for a configuration. */
  public RecoveryRunner<M> runner() {
    return runner;
  }

  /** Scores a recovered model; its task id names the target task. */
  public Evaluator<M> evaluator() {
    return evaluator;
  }

  /** Where every evaluation is persisted as it happens (default: in memory). */
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

  /** Candidates sampled and predicted per iteration. */
  public int candidatesPerIteration() {
    return candidatesPerIteration;
  }

  /** Share of each iteration's candidates that are mutations of the best configurations so far. */
  public double localCandidateFraction() {
    return localCandidateFraction;
  }

  /** Seeded random configurations evaluated before the first iteration. */
  public int warmupEvaluations() {
    return warmupEvaluations;
  }

  /** Budget of fine-tunes: every recovery the search runs, anchor, warm-up, replicates and confirmation included. */
  public int maxEvaluations() {
    return maxEvaluations;
  }

  /** The wall-time budget, checked before each batch; empty for none. */
  public Optional<Duration> maxWallTime() {
    return Optional.ofNullable(maxWallTime);
  }

  /** When exploration stops before a budget is spent. */
  public StoppingRule stoppingRule() {
    return stoppingRule;
  }

  /**
   * The configuration every result is compared with, evaluated first (uniform rank 8 by default, when
   * the space holds it); empty for none.
   */
  public Optional<RankConfig> anchor() {
    return Optional.ofNullable(anchor);
  }

  /**
   * Recovery seeds of replicates and of the confirmation stage, in the order they are used (default:
   * the recovery seed plus 1, 2, ...).
   */
  public List<Long> replicateSeeds() {
    return replicateSeeds;
  }

  /** Configurations besides the anchor re-evaluated in the confirmation stage (0: no confirmation). */
  public int finalists() {
    return finalists;
  }

  /** Further recovery seeds the finalists and the anchor are evaluated with in the confirmation stage. */
  public int confirmationSeeds() {
    return confirmationSeeds;
  }

  /** Whether the search ends with a confirmation stage. */
  public boolean confirms() {
    return finalists > 0 && confirmationSeeds > 0;
  }

  /** Two-sided confidence of the verdict's interval, before the adjustment for several finalists. */
  public double confidence() {
    return confidence;
  }

  /** How predictions become a choice. */
  public Acquisition acquisition() {
    return acquisition;
  }

  /** Whether the search meta-learns from other tasks' observations in the store first. */
  public boolean metaLearning() {
    return metaLearning;
  }

  /** Source tasks for meta-learning; empty means every task in the store other than the target. */
  public Set<String> sourceTasks() {
    return sourceTasks;
  }

  /**
   * Fine-tunes chosen together and run at once (default 1): each iteration chooses this many distinct
   * configurations from the model's predictions before any of them is measured.
   */
  public int batchSize() {
    return batchSize;
  }

  /**
   * Marks the spec as run by {@link RankAdaptor#search}, which may happen once: the search reseeds,
   * meta-learns and updates the performance model, so a second run would start from what the first
   * learned and not repeat it.
   *
   * @throws IllegalStateException when the spec has already been searched
   */
  void claimForSearch() {
    if (!searched.compareAndSet(false, true)) {
      throw new IllegalStateException("this SearchSpec has already been searched: RankAdaptor.search changes its "
          + "performance model, so a second run would not repeat the first. Build a new spec with a fresh model "
          + "(and the same store to reuse the recoveries it measured)");
    }
  }

  /** What runs the fine-tunes (default {@link EvaluationExecutor#sequential()}). */
  public EvaluationExecutor executor() {
    return executor;
  }

  /** Who hears of the search's progress, in the order added. */
  public List<SearchListener> listeners() {
    return listeners;
  }

  /** Builds a {@link SearchSpec}; only the seed has no default and must be given. */
  public static final class Builder<M> {
    private final RankSpace space;
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
    private StoppingRule stoppingRule = StoppingRule.noExpectedImprovement();
    private RankConfig anchor;
    private boolean anchorSet;
    private long[] replicateSeeds;
    private List<Long> resolvedReplicateSeeds; // set by build()
    private int finalists = 2;
    private int confirmationSeeds = 2;
    private double confidence = 0.95;
    private Acquisition acquisition = Acquisition.greedy();
    private boolean metaLearning = true;
    private final List<String> sourceTasks = new ArrayList<>();
    private final List<SearchListener> listeners = new ArrayList<>();
    private int batchSize = 1;
    private EvaluationExecutor executor = EvaluationExecutor.sequential();

    private Builder(RankSpace space, PerformanceModel model, RecoveryRunner<M> runner, Evaluator<M> evaluator) {
      this.space = space;
      this.model = model;
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

    /**
     * Budget of fine-tunes (default 30): every recovery counts, the anchor's, warm-up, replicates and the
     * confirmation stage included.
     */
    public Builder<M> maxEvaluations(int value) {
      checkArgument(value >= 1, "max evaluations must be >= 1, got %s", value);
      this.maxEvaluations = value;
      return this;
    }

    /**
     * Fine-tunes chosen together and run at once (default 1, the paper's one at a time). With
     * {@code q > 1} each iteration chooses {@code q} distinct configurations: {@code q} draws of
     * Thompson sampling, or the {@code q} best by a deterministic acquisition such as the greedy default.
     * Exploration, the noise replicates and the confirmation stage all run in batches of up to {@code q};
     * the choices depend only on finished batches, so a seed gives the same trace whatever the completion
     * order. A batch never takes the search past its budget. Stopping rules look at iterations, not
     * fine-tunes: the paper's compares prediction and measurement of each batch's first choice.
     */
    public Builder<M> batchSize(int q) {
      checkArgument(q >= 1, "the batch size must be >= 1, got %s", q);
      this.batchSize = q;
      return this;
    }

    /**
     * What runs the fine-tunes (default {@link EvaluationExecutor#sequential()}); give
     * {@link EvaluationExecutor#threads(int)} or a distributed one with {@link #batchSize(int)} above 1.
     * The search does not close it.
     */
    public Builder<M> executor(EvaluationExecutor value) {
      this.executor = Objects.requireNonNull(value, "executor");
      return this;
    }

    /** Wall-time budget; checked before each new batch of evaluations (default none). */
    public Builder<M> maxWallTime(Duration value) {
      checkArgument(value != null && !value.isNegative() && !value.isZero(), "wall time must be positive");
      this.maxWallTime = value;
      return this;
    }

    /**
     * The paper's convergence rule, {@link StoppingRule#paper}: stop exploring once
     * {@code |predicted - measured| <= threshold} (in score units) for {@code patience} consecutive
     * iterations.
     */
    public Builder<M> convergence(double threshold, int patience) {
      return stoppingRule(StoppingRule.paper(threshold, patience));
    }

    /** When exploration stops before a budget is spent (default {@link StoppingRule#noExpectedImprovement()}). */
    public Builder<M> stoppingRule(StoppingRule value) {
      this.stoppingRule = Objects.requireNonNull(value, "stoppingRule");
      return this;
    }

    /**
     * The configuration evaluated first and compared with at the end (default: uniform rank 8, when the
     * space holds it). It anchors the target's level and scale and is the baseline of the verdict.
     */
    public Builder<M> anchor(RankConfig value) {
      this.anchor = Objects.requireNonNull(value, "anchor");
      this.anchorSet = true;
      return this;
    }

    /** No anchor: no baseline evaluation and no verdict. */
    public Builder<M> noAnchor() {
      this.anchor = null;
      this.anchorSet = true;
      return this;
    }

    /**
     * Recovery seeds of replicates and of the confirmation stage, used in this order (default: the
     * recovery seed plus 1, 2, ...). Each must differ from the recovery seed and from the others.
     */
    public Builder<M> replicateSeeds(long... seeds) {
      this.replicateSeeds = seeds.clone();
      return this;
    }

    /**
     * The confirmation stage: the {@code finalists} best configurations and the anchor are each evaluated
     * with {@code seeds} further recovery seeds (the same for all), and the best paired mean wins (default
     * 2 and 2). {@code confirmation(0, 0)} ends the search on its best single measurement, as the paper
     * does.
     */
    public Builder<M> confirmation(int finalists, int seeds) {
      checkArgument(finalists >= 0 && seeds >= 0, "finalists and seeds must be >= 0, got %s and %s", finalists, seeds);
      checkArgument((finalists == 0) == (seeds == 0),
          "finalists and confirmation seeds are both 0 (no confirmation) or both positive, got %s and %s",
          finalists, seeds);
      this.finalists = finalists;
      this.confirmationSeeds = seeds;
      return this;
    }

    /** Two-sided confidence of the verdict's interval (default 0.95), adjusted for several finalists. */
    public Builder<M> confidence(double value) {
      checkArgument(value > 0 && value < 1, "confidence must be in (0, 1), got %s", value);
      this.confidence = value;
      return this;
    }

    /**
     * The search as the paper describes it: the convergence rule with threshold 0.01 and patience 1, no
     * anchor, no replicates and no confirmation stage.
     */
    public Builder<M> paperProtocol() {
      return convergence(0.01, 1).noAnchor().confirmation(0, 0);
    }

    private List<Long> replicateSeeds(long recoverySeed) {
      int needed = Math.max(confirmationSeeds, stoppingRule.needsNoise() ? 1 : 0);
      List<Long> out = new ArrayList<>();
      if (replicateSeeds != null) {
        for (long seed : replicateSeeds) {
          out.add(seed);
        }
      } else {
        for (int i = 1; i <= needed; i++) {
          out.add(recoverySeed + i);
        }
      }
      return List.copyOf(out);
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

    /** Adds a listener of the search's phases, evaluations and result. */
    public Builder<M> listener(SearchListener value) {
      this.listeners.add(Objects.requireNonNull(value, "listener"));
      return this;
    }

    /**
     * @throws IllegalStateException if no seed was given, the target is among the source tasks, the
     *     acquisition needs uncertainty the model lacks, the warm-up exceeds the budget, the replicate
     *     seeds repeat or are too few for the confirmation stage
     * @throws InvalidRankConfigException if the anchor is not in the space
     */
    public SearchSpec<M> build() {
      checkState(seedOrNull != null, "a search needs an explicit seed: call seed(long)");
      checkState(
          !sourceTasks.contains(evaluator.taskId()),
          "the target task %s cannot also be a source task",
          evaluator.taskId());
      checkState(
          model == null || !acquisition.needsUncertainty() || model.hasUncertainty(),
          "acquisition %s needs a performance model with uncertainty",
          acquisition.name());
      if (!anchorSet) {
        try {
          anchor = space.uniform(RankSpace.DEFAULT_PINNED_RANK);
        } catch (InvalidRankConfigException e) {
          anchor = null; // rank 8 is not a candidate everywhere, or over the budget: no default anchor
        }
      }
      if (anchor != null) {
        space.validate(anchor);
      }
      long recovery = recoverySeed != null ? recoverySeed : seed;
      List<Long> replicates = replicateSeeds(recovery);
      resolvedReplicateSeeds = replicates;
      checkState(replicates.stream().distinct().count() == replicates.size() && !replicates.contains(recovery),
          "replicate seeds %s must differ from each other and from the recovery seed %s", replicates, recovery);
      checkState(replicates.size() >= confirmationSeeds,
          "the confirmation stage needs %s replicate seeds, only %s given", confirmationSeeds, replicates.size());
      checkState(!stoppingRule.needsNoise() || !replicates.isEmpty(),
          "stopping rule %s needs replicates to measure the noise: give replicate seeds", stoppingRule.name());
      checkState(
          warmupEvaluations <= maxEvaluations,
          "%s warm-up evaluations exceed the budget of %s",
          warmupEvaluations,
          maxEvaluations);
      return new SearchSpec<>(this);
    }
  }
}
