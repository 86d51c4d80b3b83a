package org.rankadaptor.examples;

import static org.rankadaptor.examples.SearchConsole.metric;
import static org.rankadaptor.examples.SearchConsole.number;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rankadaptor.Evaluation;
import org.rankadaptor.Evaluator;
import org.rankadaptor.Observation;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.ParameterBudget;
import org.rankadaptor.RankAdaptor;
import org.rankadaptor.RankAdaptorException;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.SearchResult;
import org.rankadaptor.SearchSpec;
import org.rankadaptor.Seeds;
import org.rankadaptor.predictor.BayesianRidgeModel;
import org.rankadaptor.demo.DemoObjective;
import org.rankadaptor.dl4j.PrunedModelSearch;
import org.rankadaptor.dl4j.PrunedSearchResult;
import org.rankadaptor.dl4j.RunFolder;
import org.rankadaptor.dl4j.RecoveredEvaluators;
import org.rankadaptor.dl4j.eval.LlamaScoring;
import org.rankadaptor.dl4j.eval.PerplexityEvaluator;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.predictor.MlpPerformanceModel;
import org.rankadaptor.dl4j.prune.WidthPruningResult;
import org.rankadaptor.dl4j.recover.LoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.dl4j.recover.RecoverySettings;
import org.rankadaptor.dl4j.recover.TextWindows;
import org.rankadaptor.dl4j.recover.TrainingData;
import org.rankadaptor.examples.demo.DemoCorpus;
import org.rankadaptor.examples.demo.DemoCorpus.Domain;
import org.rankadaptor.examples.demo.DemoModel;
import org.rankadaptor.examples.demo.WordTokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The built-in demonstration of the whole pipeline, with nothing to download: a small LLaMA-architecture
 * model pretrained here on generated text (cached after the first run), width-pruned with Taylor
 * importance, then RankAdaptor's search for the LoRA ranks of the pruned layers with real recoveries,
 * after meta-learning on other generated domains; compared with no recovery and uniform rank 8 on the
 * target domain's held-out text. {@code --synthetic} runs the core-only demonstration on a synthetic
 * objective instead.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Builds and pretrains a small LLaMA-style model on generated stories (cached), prunes its middle layers,",
        "searches their LoRA ranks with real recoveries after meta-learning on other story domains, and compares",
        "the chosen ranks with no recovery and uniform rank 8 on held-out text of the target domain.",
        "With --synthetic: the core search on a synthetic objective (the paper's 32-layer space), against",
        "random search and uniform rank 8 (30 evaluations per strategy unless --evaluations is given); no model",
        "involved."})
final class DemoCommand implements Callable<Integer> {

  /** Layers of the demo model whose width is pruned and whose ranks are searched. */
  private static final int FIRST_PRUNED = 1;

  private static final int LAST_PRUNED = 2;

  /** Tokens per perplexity window, the demo model's context. */
  private static final int WINDOW = 64;

  /** Salts of the seeds of the generated texts, apart from the model's. */
  private static final long RECOVERY_TEXT_SALT = 21;

  private static final long TARGET_TEXT_SALT = 22;

  /** Evaluations per strategy of the synthetic demonstration, unless --evaluations says otherwise. */
  private static final int SYNTHETIC_EVALUATIONS = 30;
  private static final long SOURCE_TEXT_SALT = 23;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin SharedOptions.Search searchOptions = new SharedOptions.Search(CommandDefaults.DEMO);
  @CommandLine.Mixin SharedOptions.Seed seedOption = new SharedOptions.Seed();

  @Option(names = "--out", paramLabel = "DIR",
      description = "Folder for result.json, provenance.json, the adapters and the observation store (default: none).")
  Path outputDir;

  @CommandLine.Mixin SharedOptions.Cache cache = new SharedOptions.Cache();

  @Option(names = "--source-tasks", defaultValue = "3",
      description = "Source tasks for meta-learning: generated domains, at most 3 (default: ${DEFAULT-VALUE}).")
  int sourceTasks;

  @Option(names = "--pretrain-steps", defaultValue = "300",
      description = "Optimiser steps pretraining the demo model (default: ${DEFAULT-VALUE}).")
  int pretrainSteps;

  @Option(names = "--ratio", defaultValue = "0.15",
      description = "Share of the model's parameters removed from layers 1..2 (default: ${DEFAULT-VALUE}).")
  double ratio;

  @Option(names = "--eval-tokens", defaultValue = "2048", description = "Tokens scored per perplexity task (default: ${DEFAULT-VALUE}).")
  int evalTokens;

  @Option(names = "--synthetic", description = "Run the core-only demonstration on a synthetic objective.")
  boolean synthetic;

  @Override
  public Integer call() {
    validateArguments();
    if (synthetic) {
      return runSynthetic();
    }
    PrintWriter err = spec.commandLine().getErr();
    try {
      return runPipeline();
    } catch (IOException | RankAdaptorException | IllegalArgumentException | IllegalStateException e) {
      err.println("error: " + e.getMessage());
      err.flush();
      return 1;
    }
  }

  private void validateArguments() {
    if (searchOptions.evaluations < 1) {
      throw usage("--evaluations must be at least 1, got " + searchOptions.evaluations);
    }
    if (sourceTasks < 0 || sourceTasks > Domain.values().length - 1 && !synthetic) {
      throw usage("--source-tasks must be in 0.." + (Domain.values().length - 1) + ", got " + sourceTasks);
    }
    if (searchOptions.sourceConfigs < 1 || pretrainSteps < 1 || searchOptions.steps < 1
        || searchOptions.metaIterations < 1) {
      throw usage("--source-configs, --meta-iterations, --pretrain-steps and --steps must be at least 1");
    }
    if (!(ratio > 0 && ratio < 1)) {
      throw usage("--ratio must be in (0, 1), got " + ratio);
    }
    if (evalTokens < 2) {
      throw usage("--eval-tokens must be at least 2, got " + evalTokens);
    }
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  private int runPipeline() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    long started = System.nanoTime();
    WordTokenizer tok = WordTokenizer.forDemoCorpus();
    Path cacheRoot = cache.root();
    DemoModel.Settings modelSettings = DemoModel.Settings.defaults(seedOption.seed).withSteps(pretrainSteps);
    status(err, "preparing the demo model (" + modelSettings + ")");
    DemoModel.Prepared prepared = DemoModel.obtain(cacheRoot, modelSettings, tok);
    status(err, (prepared.pretrainedNow() ? "pretrained and cached " : "reused the cached model ")
        + prepared.folder());
    LlamaModel original = prepared.model();

    String recoveryText = DemoCorpus.mixed(1200, Seeds.mix(seedOption.seed, RECOVERY_TEXT_SALT));
    String targetText = DemoCorpus.generate(Domain.PETS, 400, Seeds.mix(seedOption.seed, TARGET_TEXT_SALT));
    RecoverySettings recovery = RecoverySettings.tiny().withMaxSteps(searchOptions.steps);
    TrainingData data = TextWindows.of(recoveryText, tok, recovery.cutoffLength(), recovery.cutoffLength());
    TrainingData.Split split = data.split(16, seedOption.seed);

    int n = original.config().nLayers();
    status(err, "width pruning " + ratio + " of the parameters in layers " + FIRST_PRUNED + ".." + LAST_PRUNED
        + " (first-order Taylor importance)");
    WidthPruningResult pruning = SearchPipeline.widthPrune(original, recoveryText, tok, FIRST_PRUNED, LAST_PRUNED,
        ratio, seedOption.seed, false);
    LlamaModel pruned = pruning.model();

    RankSpace space = RankSpace.builder(n).candidates(2, 4, 6, 8, 10, 12)
        .searchLayers(FIRST_PRUNED, LAST_PRUNED).build();
    LoraRecoveryRunner runner = SearchPipeline.runner(pruned, split, recovery, new SearchConsole.Progress(err));
    Evaluator<RecoveredModel> target = perplexity(Domain.PETS, targetText, tok);
    int budget = searchOptions.evaluations;
    ObservationStore store = outputDir != null
        ? ObservationStore.open(outputDir.resolve("observations.jsonl"))
        : ObservationStore.inMemory();
    PrunedSearchResult result;
    try (store) {
      MlpPerformanceModel mlp = SearchPipeline.metaLearnedMlp(space, seedOption.seed, searchOptions.metaIterations);
      PrunedModelSearch.Builder search = SearchPipeline.search(pruned, runner, target, space, searchOptions,
              seedOption.seed, mlp, store, err)
          .pruningReport(pruning.report().toJson())
          .setting("model", prepared.folder().toString())
          .setting("modelFingerprint", prepared.fingerprint())
          .setting("recoveryDataFingerprint", data.fingerprint())
          .setting("prune", "width " + ratio + " of layers " + FIRST_PRUNED + ".." + LAST_PRUNED);
      List<Domain> sources = new ArrayList<>();
      for (Domain d : Domain.values()) {
        if (d != Domain.PETS && sources.size() < sourceTasks) {
          sources.add(d);
        }
      }
      for (Domain d : sources) {
        String text = DemoCorpus.generate(d, 200, Seeds.mix(seedOption.seed, SOURCE_TEXT_SALT + d.ordinal()));
        search.source(perplexity(d, text, tok));
      }
      status(err, "meta-learning on " + sources.size() + " source domains x " + searchOptions.sourceConfigs
          + " configurations, then up to " + budget + " target evaluations on " + target.taskId());
      if (outputDir != null) {
        search.outputFolder(outputDir);
      }
      result = search.build().run();
    }
    Evaluation unpruned = PerplexityEvaluator.<LlamaModel>builder(target.taskId(),
            tok.encode(targetText, true, false), m -> new LlamaScoring(m, null, 8))
        .window(WINDOW, WINDOW - 1).maxTokens(evalTokens).build().evaluate(original);
    printComparison(out, space, pruned.config(), result, unpruned, (System.nanoTime() - started) / 1e9);
    return 0;
  }

  private Evaluator<RecoveredModel> perplexity(Domain domain, String text, WordTokenizer tok) {
    return RecoveredEvaluators.perplexity("ppl/" + domain.id(), text, tok).window(WINDOW).maxTokens(evalTokens).build();
  }

  private static void status(PrintWriter err, String message) {
    err.println(message);
    err.flush();
  }

  private void printComparison(PrintWriter out, RankSpace space, LlamaConfig config, PrunedSearchResult result,
      Evaluation unpruned, double seconds) {
    out.printf(Locale.ROOT, "%nRankAdaptor demo: target ppl/%s (held-out generated text), %s;%n"
        + "%d source observations, %d recoveries in this run, search stopped: %s, %.0f s%n",
        Domain.PETS.id(), space.describe(), result.sourceObservations(), result.recoveries(),
        result.search().stopReason().name().toLowerCase(Locale.ROOT).replace('_', ' '), seconds);
    out.printf(Locale.ROOT, "%-22s %-16s %10s %12s %12s%n", "", "ranks", "score", "metric", "LoRA params");
    row(out, "RankAdaptor", result.search().bestObservation(), config);
    for (Map.Entry<String, Observation> e : result.baselines().entrySet()) {
      String name = e.getKey().equals("uniform") ? "uniform rank 8" : "no recovery";
      row(out, name, e.getValue(), config);
    }
    out.printf(Locale.ROOT, "%-22s %-16s %10s %12s %12s%n", "unpruned (reference)", "-", number(unpruned.score()),
        String.format(Locale.ROOT, "ppl %.3f", unpruned.metrics().get("ppl")), "-");
    out.printf(Locale.ROOT, "%nScores are -log(perplexity), higher is better, with recovery seed %d; the search "
        + "decided on paired means over more seeds:%n", seedOption.seed);
    out.printf(Locale.ROOT, "stopped: %s%n", result.search().stopExplanation());
    if (result.search().failures() > 0) {
      out.printf(Locale.ROOT, "failed fine-tunes: %d of %d (each in the store with its reason)%n", result.search().failures(),
          result.search().fineTunes());
    }
    result.search().confirmation().ifPresent(c -> out.printf(Locale.ROOT, "verdict: %s%n", c.reason()));
    if (outputDir != null) {
      out.printf(Locale.ROOT, "written to %s (%s, %s%s)%n", outputDir, RunFolder.RESULT_FILE,
          RunFolder.PROVENANCE_FILE,
          result.adapters().isPresent() ? ", " + RunFolder.ADAPTERS_FOLDER + "/" : "");
    }
    out.flush();
  }

  private static void row(PrintWriter out, String name, Observation o, LlamaConfig config) {
    out.printf(Locale.ROOT, "%-22s %-16s %10s %12s %12d%n", name, o.config().format(), number(o.score()), metric(o),
        loraParameters(config, o.config()));
  }

  /** Trainable LoRA weights of a configuration: rank x (in + out) of every adapted projection. */
  static long loraParameters(LlamaConfig config, RankConfig ranks) {
    return new ParameterBudget(LoraAdapters.parametersPerRank(config, RecoverySettings.tiny().targets()),
        Long.MAX_VALUE).trainableParameters(ranks);
  }

  /** The synthetic search's budget: --evaluations where given, else 30 per strategy. */
  private int syntheticBudget() {
    return spec.commandLine().getParseResult().hasMatchedOption("--evaluations") ? searchOptions.evaluations
        : SYNTHETIC_EVALUATIONS;
  }

  /** The core-only demonstration: the search on a synthetic objective, no model involved. */
  private int runSynthetic() {
    PrintWriter out = spec.commandLine().getOut();
    RankSpace space = RankSpace.paperSetting();
    ObservationStore store = ObservationStore.inMemory();
    for (int task = 1; task <= sourceTasks; task++) {
      DemoObjective source = DemoObjective.task(space, seedOption.seed, task, 0.25, 0.01);
      RankAdaptor.randomSearch(SearchSpec.builder(new BayesianRidgeModel(space), source, source)
          .seed(seedOption.seed + task).store(store).maxEvaluations(60).build());
    }
    DemoObjective target = DemoObjective.task(space, seedOption.seed, 0, 0.25, 0.01);
    SearchResult search = RankAdaptor.search(SearchSpec.builder(new BayesianRidgeModel(space), target, target)
        .seed(seedOption.seed).store(store).maxEvaluations(syntheticBudget()).convergence(0.005, 2).build());
    SearchResult random = RankAdaptor.randomSearch(SearchSpec.builder(new BayesianRidgeModel(space), target, target)
        .seed(seedOption.seed).store(store).maxEvaluations(search.trace().size()).build());
    RankConfig optimum = target.optimum();
    double best = target.trueScore(optimum);

    out.printf(Locale.ROOT, "%nRankAdaptor demo: %s; %d source tasks x 60 evaluations for meta-learning%n",
        space.describe(), sourceTasks);
    out.printf(Locale.ROOT, "%-32s %11s %12s %10s  %s%n", "strategy", "evaluations", "true score", "regret", "ranks of layers 4..29");
    row(out, "RankAdaptor (" + search.stopReason().name().toLowerCase(Locale.ROOT) + ")", search.trace().size(),
        target.trueScore(search.best()), best, search.best());
    row(out, "random search", random.trace().size(), target.trueScore(random.best()), best, random.best());
    row(out, "uniform rank 8", 1, target.trueScore(space.uniform(8)), best, space.uniform(8));
    row(out, "optimum (exact)", 0, best, best, optimum);
    out.printf(Locale.ROOT, "%nTrue scores are noise-free; each evaluation measured them with noise of sd 0.01.%n");
    out.flush();
    return 0;
  }

  private static void row(PrintWriter out, String name, int evaluations, double score, double best, RankConfig config) {
    StringBuilder ranks = new StringBuilder();
    for (int layer = 4; layer <= 29; layer++) {
      ranks.append(layer > 4 ? "," : "").append(config.rank(layer));
    }
    out.printf(Locale.ROOT, "%-32s %11d %12.4f %10.4f  %s%n", name, evaluations, score, best - score, ranks);
  }
}
