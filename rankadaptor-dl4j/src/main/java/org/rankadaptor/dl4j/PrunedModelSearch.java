package org.rankadaptor.dl4j;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.collect.ImmutableMap;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.rankadaptor.Evaluator;
import org.rankadaptor.Observation;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.PerformanceModel;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankAdaptor;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.RecoveryRunner;
import org.rankadaptor.SearchListener;
import org.rankadaptor.SearchResult;
import org.rankadaptor.SearchSpec;
import org.rankadaptor.Seeds;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.predictor.MlpConfig;
import org.rankadaptor.dl4j.predictor.MlpPerformanceModel;
import org.rankadaptor.dl4j.predictor.PredictorProvenance;
import org.rankadaptor.dl4j.recover.AdaLoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.dl4j.recover.RecoveryBaselines;
import org.rankadaptor.dl4j.recover.RecoveryProvenance;
import org.rankadaptor.dl4j.recover.TrainingLog;
import org.rankadaptor.dl4j.runtime.EnvironmentProvenance;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// Longer than most files here because of its Builder: one documented method per setting of the public
// API. The work is done elsewhere: StoredMeasurements, Comparisons and RunFolder.
/**
 * RankAdaptor on a real pruned model, end to end: offline meta-learning data from real recoveries
 * measured on source tasks, the search on the target task, the best configuration's recovered model
 * and its PEFT adapters, and the provenance of it all.
 *
 * <pre>{@code
 * PrunedSearchResult result = PrunedModelSearch.builder(prunedModel, recoveryRunner, targetEvaluator)
 *     .space(RankSpace.builder(32).searchLayers(4, 29).build())
 *     .source(wikitextPerplexity).source(alpacaPerplexity)
 *     .store(ObservationStore.open(Path.of("runs/observations.jsonl")))
 *     .seed(42).maxEvaluations(20)
 *     .outputFolder(Path.of("runs/piqa"))
 *     .build()
 *     .run();
 * }</pre>
 *
 * <p><b>Meta-learning data.</b> {@code sourceConfigurations} distinct configurations drawn from the
 * space with a seed derived from the search seed are recovered once each and measured on every source
 * task; each measurement is appended to the store under its source task. Measurements already in the
 * store (same task, configuration, recovery seed and fingerprints) are not made again, so a second
 * call with the same store recovers none of them. The target task is never a source.
 *
 * <p><b>Comparisons.</b> Besides the search, a run can measure baselines on the target
 * ({@link RecoveryBaselines}: uniform rank 8 and no recovery by default, LoRA* on request), run
 * {@linkplain RankAdaptor#randomSearch random search} with the same budget through the same store, and
 * measure every method's configuration on held-out tasks (for example the test part of a text whose
 * validation part is the target, and zero-shot tasks), recovered with one or more recovery seeds: the
 * search chooses on the target, so only held-out measurements compare the methods without the choice's
 * own optimism. The package-private {@code Comparisons} makes these measurements.
 *
 * <p><b>Resuming.</b> Every measurement goes to the store as soon as it is made and every choice is
 * seeded, so a run killed at any point and started again over the same store replays its choices,
 * takes the finished measurements from the store and loses at most the one in flight. The best
 * configuration's adapters are taken from a previous run's output folder when its result file names
 * the same configuration, recovery seed and fingerprints; otherwise that configuration is recovered
 * again (recovery is deterministic for a seed). {@link RunFolder} owns the output folder's layout.
 *
 * @since 0.1.0
 */
public final class PrunedModelSearch {

  private static final Logger LOG = LoggerFactory.getLogger(PrunedModelSearch.class);

  /** Method names of held-out measurements besides the baselines' names. */
  public static final String RANKADAPTOR = "rankadaptor";

  /** The random-search baseline's name in results. */
  public static final String RANDOM_SEARCH = "random";

  /** Method name of AdaLoRA, when a run compares it (see {@link Builder#adaLora}). */
  public static final String ADALORA = "adalora";

  /** Method name of the paper's protocol, when a run compares it (see {@link Builder#paperProtocol}). */
  public static final String RANKADAPTOR_PAPER = "rankadaptor-paper";

  /** Salt of the seed that draws the meta-learning configurations. */
  private static final long SOURCE_SALT = 0x50_52_55_4E_45_44L;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final LlamaModel model;
  private final CachingRecoveryRunner runner;
  private final RecoveryRunner<RecoveredModel> recoveryRunner; // as given, for its provenance
  private final Evaluator<RecoveredModel> target;
  private final List<Evaluator<RecoveredModel>> sources;
  private final RankSpace space;
  private final int sourceConfigurations;
  private final ObservationStore store;
  private final long seed;
  private final long recoverySeed;
  private final int maxEvaluations;
  private final PerformanceModel performanceModel;
  private final UnaryOperator<SearchSpec.Builder<RecoveredModel>> searchOptions;
  private final List<SearchListener> listeners;
  private final boolean randomSearch;
  private final PerformanceModel paperModel; // null: the paper's protocol is not run
  private final double paperThreshold;
  private final RunFolder folder; // null: nothing written
  private final boolean saveMerged;
  private final String pruningReportJson; // null: none
  private final Map<String, String> settings;
  private final StoredMeasurements measurements;
  private final Comparisons comparisons;

  private PrunedModelSearch(Builder b) {
    this.model = b.model;
    this.runner = new CachingRecoveryRunner(b.runner);
    this.recoveryRunner = b.runner;
    this.target = b.target;
    this.sources = List.copyOf(b.sources);
    this.space = b.space != null ? b.space : RankSpace.builder(model.config().nLayers()).build();
    this.sourceConfigurations = b.sourceConfigurations;
    this.store = b.store;
    this.seed = b.seed;
    this.recoverySeed = b.recoverySeed != null ? b.recoverySeed : b.seed;
    this.measurements = new StoredMeasurements(store, runner, seed, recoverySeed);
    this.maxEvaluations = b.maxEvaluations;
    this.performanceModel = b.performanceModel != null
        ? b.performanceModel
        : new MlpPerformanceModel(space, MlpConfig.paper().withSeed(b.seed));
    this.searchOptions = b.searchOptions;
    this.listeners = List.copyOf(b.listeners);
    this.randomSearch = b.randomSearch;
    this.paperModel = b.paperModel;
    this.paperThreshold = b.paperThreshold;
    this.comparisons = new Comparisons(runner, measurements, target, space, recoverySeed, b.baselineNames, b.adaLora,
        b.heldOut, b.heldOutTaskSeeds, b.heldOutSeeds != null ? b.heldOutSeeds : new long[] {recoverySeed});
    this.folder = b.outputFolder == null ? null : RunFolder.at(b.outputFolder);
    this.saveMerged = b.saveMerged;
    this.pruningReportJson = b.pruningReportJson;
    this.settings = ImmutableMap.copyOf(new TreeMap<>(b.settings));
  }

  /**
   * Starts a search.
   *
   * @param prunedModel the pruned model that {@code runner} recovers; its layer count is the space's
   * @param runner recovers {@code prunedModel} for a configuration, such as a {@code LoraRecoveryRunner}
   * @param target measures a recovered model on the target task
   */
  public static Builder builder(
      LlamaModel prunedModel, RecoveryRunner<RecoveredModel> runner, Evaluator<RecoveredModel> target) {
    return new Builder(prunedModel, runner, target);
  }

  /** The search space. */
  public RankSpace space() {
    return space;
  }

  /**
   * Runs everything: meta-learning data, search, baselines, the final model and the output files.
   *
   * @throws IOException when an output file cannot be written or a previous run's adapters cannot be read
   * @throws org.rankadaptor.RankAdaptorException when no target evaluation succeeded
   */
  public PrunedSearchResult run() throws IOException {
    Nd4jRuntime.ensureInitialized();
    String[] sourceIds = sources.stream().map(Evaluator::taskId).toArray(String[]::new);
    // A space smaller than the request is taken whole (sampling distinct configurations would fail).
    int sourceCount = space.size().min(BigInteger.valueOf(sourceConfigurations)).intValue();
    List<RankConfig> sourceConfigs =
        sourceIds.length == 0 ? List.of() : space.sample(sourceCount, Seeds.mix(seed, SOURCE_SALT), true);
    for (RankConfig config : sourceConfigs) {
      measurements.measure(runner, config, sources, "source", recoverySeed, null);
    }
    int sourceObservations = 0;
    for (Evaluator<RecoveredModel> source : sources) {
      sourceObservations += (int) store.forTask(source.taskId()).stream().filter(Observation::succeeded).count();
    }
    LOG.info("{} source observations on {} for meta-learning", sourceObservations, List.of(sourceIds));

    SearchSpec.Builder<RecoveredModel> main = spec(performanceModel, sourceIds);
    listeners.forEach(main::listener); // the listeners hear the main search only
    SearchSpec<RecoveredModel> searchSpec = searchOptions.apply(main).build();
    SearchResult search = RankAdaptor.search(searchSpec);

    // Before anything else is recovered: the search's last recovery may be the best and still be kept.
    RecoveredModel best = bestModel(search.best());
    runner.handOver();
    Optional<SearchResult> paper = Optional.empty();
    if (paperModel != null) {
      // Same store and seeds: what both protocols chose is recovered once.
      paper = Optional.of(RankAdaptor.search(
          searchOptions.apply(spec(paperModel, sourceIds)).paperProtocol().convergence(paperThreshold, 1).build()));
    }
    Optional<SearchResult> random = Optional.empty();
    if (randomSearch) {
      // Same spec, same store: a configuration both searches chose is recovered once.
      random = Optional.of(RankAdaptor.randomSearch(searchSpec));
    }
    Map<String, Observation> baselineObservations = comparisons.baselines();
    List<HeldOutMeasurement> heldOutMeasurements =
        comparisons.heldOut(search, best, random, paper, baselineObservations);

    Optional<RunFolder.Written> written = Optional.empty();
    if (folder != null) {
      written = Optional.of(folder.write(model, best.adapters(), adapterMetadata(search), saveMerged,
          RunResultJson.of(target.taskId(), search, recoverySeed, seed, runner.fingerprint(), space.describe(),
              baselineObservations, random, paper, heldOutMeasurements),
          provenance(search, sourceConfigs, sourceObservations)));
    }
    LOG.info("best {} (score {}), {} recoveries in this run", search.best(), search.bestScore(), measurements.recoveries());
    return new PrunedSearchResult(search, best, baselineObservations, random, paper, heldOutMeasurements,
        sourceObservations, measurements.recoveries(), written.flatMap(RunFolder.Written::adapters),
        written.flatMap(RunFolder.Written::merged), written.map(RunFolder.Written::result),
        written.map(RunFolder.Written::provenance));
  }

  /** A search on the target with this run's store, seeds and budget, meta-learning from the sources. */
  private SearchSpec.Builder<RecoveredModel> spec(PerformanceModel predictor, String[] sourceIds) {
    SearchSpec.Builder<RecoveredModel> spec = SearchSpec.builder(predictor, runner, target)
        .store(store)
        .seed(seed)
        .recoverySeed(recoverySeed)
        .maxEvaluations(maxEvaluations)
        .metaLearning(sourceIds.length > 0);
    if (sourceIds.length > 0) {
      spec.sourceTasks(sourceIds);
    }
    return spec;
  }

  /** The best configuration's model: kept from the last recovery, read from a previous run, or recovered. */
  private RecoveredModel bestModel(RankConfig best) throws IOException {
    if (folder != null && !runner.isCached(best, recoverySeed)) {
      Optional<LoraAdapters> previous = folder.previousAdapters(best, recoverySeed, runner.fingerprint(), model);
      if (previous.isPresent()) {
        LOG.info("adapters of {} taken from the previous run in {}", best, folder);
        // No training happened in this run: the log is empty.
        TrainingLog none = new TrainingLog(List.of(), List.of(), 0, Double.NaN, 0, 0, 0);
        return new RecoveredModel(model, previous.get(), best, none,
            new Provenance(recoverySeed, runner.fingerprint(), "", Map.of("ranks", best.format(),
                "adapters", folder.adaptersFolder().toString())));
      }
    }
    return runner.recover(best, recoverySeed);
  }

  private Map<String, String> adapterMetadata(SearchResult search) {
    Map<String, String> m = new TreeMap<>();
    m.put("rankadaptor.ranks", search.best().format());
    m.put("rankadaptor.recovery_seed", Long.toString(recoverySeed));
    m.put("rankadaptor.search_seed", Long.toString(seed));
    m.put("rankadaptor.task", target.taskId());
    m.put("rankadaptor.score", Double.toString(search.bestScore()));
    return m;
  }

  /** The run's provenance, from what each component reports of itself. */
  private RunProvenance provenance(SearchResult search, List<RankConfig> sourceConfigs, int sourceObservations)
      throws IOException {
    Map<String, String> sourcePrints = new LinkedHashMap<>();
    sources.forEach(source -> sourcePrints.put(source.taskId(), source.fingerprint()));
    return new RunProvenance(search.provenance(), target.taskId(), target.fingerprint(), sourcePrints,
        comparisons.heldOutTasks(), comparisons.defaultHeldOutSeeds(),
        sourceConfigs.stream().map(RankConfig::format).toList(), sourceObservations, recoverySeed,
        // Asked only now: a runner's provenance hashes the model's weights, which build() should not.
        RecoveryProvenance.of(recoveryRunner).orElse(null), PredictorProvenance.of(performanceModel), measurements.recoveries(),
        store.path().map(Path::toString).orElse("(in memory)"), EnvironmentProvenance.current(),
        pruningReportJson == null ? null : JSON.readTree(pruningReportJson), settings);
  }

  /** Settings of a {@link PrunedModelSearch}; only the seed has no default. */
  public static final class Builder {
    private final LlamaModel model;
    private final RecoveryRunner<RecoveredModel> runner;
    private final Evaluator<RecoveredModel> target;
    private final List<Evaluator<RecoveredModel>> sources = new ArrayList<>();
    private RankSpace space;
    private int sourceConfigurations = 3;
    private ObservationStore store = ObservationStore.inMemory();
    private Long seedOrNull;
    private long seed;
    private Long recoverySeed;
    private int maxEvaluations = 30;
    private PerformanceModel performanceModel;
    private UnaryOperator<SearchSpec.Builder<RecoveredModel>> searchOptions = UnaryOperator.identity();
    private final List<SearchListener> listeners = new ArrayList<>();
    private List<String> baselineNames = List.of(RecoveryBaselines.UNIFORM, RecoveryBaselines.NONE);
    private boolean randomSearch;
    private final List<AdaLoraRecoveryRunner> adaLora = new ArrayList<>();
    private PerformanceModel paperModel;
    private double paperThreshold;
    private final List<Evaluator<RecoveredModel>> heldOut = new ArrayList<>();
    private final Map<String, long[]> heldOutTaskSeeds = new LinkedHashMap<>();
    private long[] heldOutSeeds;
    private Path outputFolder;
    private boolean saveMerged;
    private String pruningReportJson;
    private final Map<String, String> settings = new TreeMap<>();

    private Builder(LlamaModel model, RecoveryRunner<RecoveredModel> runner, Evaluator<RecoveredModel> target) {
      this.model = Objects.requireNonNull(model, "prunedModel");
      this.runner = Objects.requireNonNull(runner, "runner");
      this.target = Objects.requireNonNull(target, "target");
    }

    /** The search space; default: every layer searched over {@link RankSpace#DEFAULT_CANDIDATES}. */
    public Builder space(RankSpace value) {
      this.space = Objects.requireNonNull(value, "space");
      return this;
    }

    /** Adds a source task for offline meta-learning; it must differ from the target. */
    public Builder source(Evaluator<RecoveredModel> value) {
      Objects.requireNonNull(value, "source");
      if (value.taskId().equals(target.taskId())) {
        throw new IllegalArgumentException("source task " + value.taskId() + " is the target task");
      }
      if (sources.stream().anyMatch(s -> s.taskId().equals(value.taskId()))) {
        throw new IllegalArgumentException("source task " + value.taskId() + " is given twice");
      }
      sources.add(value);
      return this;
    }

    /** Configurations recovered and measured on every source task for meta-learning (default 3). */
    public Builder sourceConfigurations(int value) {
      if (value < 1) {
        throw new IllegalArgumentException("source configurations must be at least 1, got " + value);
      }
      this.sourceConfigurations = value;
      return this;
    }

    /** Where every measurement is kept; a file-backed store makes the run resumable (default in memory). */
    public Builder store(ObservationStore value) {
      this.store = Objects.requireNonNull(value, "store");
      return this;
    }

    /** Seed of every choice of the search and of the meta-learning configurations. Required. */
    public Builder seed(long value) {
      this.seedOrNull = value;
      this.seed = value;
      return this;
    }

    /** Seed of every recovery (default: the seed), the same for every configuration. */
    public Builder recoverySeed(long value) {
      this.recoverySeed = value;
      return this;
    }

    /**
     * Budget of the search's fine-tunes on the target, replicates and confirmation included (default 30).
     * What the run measures besides comes on top: {@link #sourceConfigurations} recoveries for the source
     * tasks, one recovery per baseline and per AdaLoRA learning rate, the paper's protocol and random
     * search (each with this budget, sharing recoveries through the store), the best configuration again
     * when it was not the last recovered, and the held-out seeds. {@link PrunedSearchResult#recoveries()}
     * counts every recovery the run made.
     */
    public Builder maxEvaluations(int value) {
      if (value < 1) {
        throw new IllegalArgumentException("max evaluations must be at least 1, got " + value);
      }
      this.maxEvaluations = value;
      return this;
    }

    /**
     * The performance model; default an {@link MlpPerformanceModel} with the paper's network seeded by
     * the search seed. Its space must be the search space.
     */
    public Builder performanceModel(PerformanceModel value) {
      this.performanceModel = Objects.requireNonNull(value, "performanceModel");
      return this;
    }

    /** Further settings of the core search (convergence, acquisition, candidates, warm-up). */
    public Builder searchOptions(UnaryOperator<SearchSpec.Builder<RecoveredModel>> value) {
      this.searchOptions = Objects.requireNonNull(value, "searchOptions");
      return this;
    }

    /** Hears the target search's progress. */
    public Builder listener(SearchListener value) {
      listeners.add(Objects.requireNonNull(value, "listener"));
      return this;
    }

    /** Whether to measure uniform rank 8 and no recovery on the target too (default true). */
    public Builder baselines(boolean value) {
      this.baselineNames = value ? List.of(RecoveryBaselines.UNIFORM, RecoveryBaselines.NONE) : List.of();
      return this;
    }

    /**
     * The baselines measured on the target, by {@link RecoveryBaselines} name, in this order (default
     * {@code uniform}, {@code none}).
     *
     * @throws IllegalArgumentException for an unknown or repeated name
     */
    public Builder baselines(String... names) {
      List<String> list = new ArrayList<>();
      for (String name : names) {
        String known = RecoveryBaselines.NAMES.stream().filter(n -> n.equalsIgnoreCase(name)).findFirst()
            .orElseThrow(() -> new IllegalArgumentException(
                "unknown recovery baseline '" + name + "'; known: " + RecoveryBaselines.NAMES));
        if (list.contains(known)) {
          throw new IllegalArgumentException("baseline " + known + " is given twice");
        }
        list.add(known);
      }
      this.baselineNames = List.copyOf(list);
      return this;
    }

    /**
     * Also compares AdaLoRA: each runner recovers the same pruned model from its initial ranks ({@link
     * AdaLoraRecoveryRunner#initialRanks}) and learns its own, within {@code target_r} triplets per module on
     * average. Each is measured on the target with the recovery seed, and the best there (for example
     * among runners at several learning rates: AdaLoRA's starting point, lambda 0 and small P and Q,
     * wants a larger one than LoRA's) is measured as {@link #ADALORA} on every held-out task with every
     * held-out seed, like the baselines. Its observations carry the ranks it learned and its learning rate.
     */
    public Builder adaLora(AdaLoraRecoveryRunner... runners) {
      if (runners.length == 0) {
        throw new IllegalArgumentException("adaLora needs at least one runner");
      }
      for (AdaLoraRecoveryRunner runner : runners) {
        adaLora.add(Objects.requireNonNull(runner, "adaLora"));
      }
      return this;
    }

    /**
     * Also runs the paper's protocol ({@link SearchSpec.Builder#paperProtocol}: its convergence rule, no
     * anchor, no replicates) with the same budget, seeds and store, and measures its choice on the
     * held-out tasks as {@link #RANKADAPTOR_PAPER}, so that a report can show what the default protocol
     * changes. The model must be fresh (the main search's model has learned the target).
     *
     * @param threshold the convergence rule's threshold, in score units (the paper's: 0.01)
     */
    public Builder paperProtocol(PerformanceModel freshModel, double threshold) {
      this.paperModel = Objects.requireNonNull(freshModel, "freshModel");
      if (!(threshold >= 0) || !Double.isFinite(threshold)) {
        throw new IllegalArgumentException("the convergence threshold must be finite and >= 0, got " + threshold);
      }
      this.paperThreshold = threshold;
      return this;
    }

    /** Whether to also run random search with the same evaluation budget and seed (default false). */
    public Builder randomSearch(boolean value) {
      this.randomSearch = value;
      return this;
    }

    /**
     * Adds a held-out task: every method's configuration is measured on it after the search. It must
     * differ from the target and from the other held-out tasks.
     */
    public Builder heldOut(Evaluator<RecoveredModel> value) {
      Objects.requireNonNull(value, "heldOut");
      if (value.taskId().equals(target.taskId())) {
        throw new IllegalArgumentException("held-out task " + value.taskId() + " is the target task");
      }
      if (heldOut.stream().anyMatch(h -> h.taskId().equals(value.taskId()))) {
        throw new IllegalArgumentException("held-out task " + value.taskId() + " is given twice");
      }
      heldOut.add(value);
      return this;
    }

    /**
     * Adds a held-out task measured with these recovery seeds instead of {@link #heldOutSeeds}: for a
     * costly task whose differences between seeds do not matter (a task a small model is at chance on).
     */
    public Builder heldOut(Evaluator<RecoveredModel> value, long... recoverySeeds) {
      long[] seeds = checkedSeeds(recoverySeeds);
      heldOut(value);
      heldOutTaskSeeds.put(value.taskId(), seeds);
      return this;
    }

    /**
     * Recovery seeds of the held-out measurements (default: the recovery seed alone). Seeds other than
     * the search's recovery seed show how much of a difference between methods is the seed's.
     */
    public Builder heldOutSeeds(long... seeds) {
      this.heldOutSeeds = checkedSeeds(seeds);
      return this;
    }

    private static long[] checkedSeeds(long[] seeds) {
      if (seeds.length == 0) {
        throw new IllegalArgumentException("at least one held-out recovery seed is needed");
      }
      if (Arrays.stream(seeds).distinct().count() != seeds.length) {
        throw new IllegalArgumentException("held-out recovery seeds repeat: " + Arrays.toString(seeds));
      }
      return seeds.clone();
    }

    /** Where adapters, result and provenance go (default: nothing is written). */
    public Builder outputFolder(Path value) {
      this.outputFolder = Objects.requireNonNull(value, "outputFolder");
      return this;
    }

    /** Whether to also save the pruned model with the best adapters merged in (default false). */
    public Builder saveMergedModel(boolean value) {
      this.saveMerged = value;
      return this;
    }

    /** The pruning report (as JSON, e.g. {@code PruningReport.toJson()}) for the provenance file. */
    public Builder pruningReport(String json) {
      this.pruningReportJson = Objects.requireNonNull(json, "json");
      return this;
    }

    /** A setting recorded in the provenance file (recovery settings, data files, ...). */
    public Builder setting(String key, String value) {
      settings.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /**
     * @throws IllegalStateException without a seed, or when the performance model's space is not the
     *     search space or the space's layer count is not the model's
     */
    public PrunedModelSearch build() {
      if (seedOrNull == null) {
        throw new IllegalStateException("a search needs an explicit seed: call seed(long)");
      }
      RankSpace s = space != null ? space : RankSpace.builder(model.config().nLayers()).build();
      if (s.numLayers() != model.config().nLayers()) {
        throw new IllegalStateException("the space has " + s.numLayers() + " layers, the pruned model "
            + model.config().nLayers());
      }
      if (performanceModel != null && !performanceModel.space().equals(s)) {
        throw new IllegalStateException("the performance model's space " + performanceModel.space().describe()
            + " is not the search space " + s.describe());
      }
      if (pruningReportJson != null) {
        try {
          JSON.readTree(pruningReportJson);
        } catch (IOException e) {
          throw new IllegalStateException("the pruning report is not JSON: " + e.getMessage(), e);
        }
      }
      return new PrunedModelSearch(this);
    }
  }
}
