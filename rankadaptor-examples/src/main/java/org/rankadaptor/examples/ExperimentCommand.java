package org.rankadaptor.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rankadaptor.Evaluation;
import org.rankadaptor.Evaluator;
import org.rankadaptor.Observation;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.RankAdaptorException;
import org.rankadaptor.RankSpace;
import org.rankadaptor.dl4j.PrunedModelSearch;
import org.rankadaptor.dl4j.PrunedSearchResult;
import org.rankadaptor.dl4j.RecoveredEvaluators;
import org.rankadaptor.dl4j.io.TextFiles;
import org.rankadaptor.dl4j.eval.MultipleChoiceItem;
import org.rankadaptor.dl4j.eval.TaskLoaders;
import org.rankadaptor.dl4j.eval.ZeroShotTask;
import org.rankadaptor.dl4j.predictor.MlpPerformanceModel;
import org.rankadaptor.dl4j.recover.AlpacaData;
import org.rankadaptor.dl4j.recover.LoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The experiment report: the shape of the paper's main table at small scale, on stories260K or on the deep
 * test model. For each pruning setting (width pruning of the middle layers at several shares, and depth
 * pruning), the pruned model
 * is recovered with no recovery, uniform rank 8, LoRA*, AdaLoRA (which learns its ranks during one fine-tune,
 * from 12 down to an average of 8 per module) and the ranks RankAdaptor chooses within the same
 * trainable-parameter budget (and random search with the same number of fine-tunes), and every method is
 * measured on held-out TinyStories text and on the zero-shot tasks, over several recovery seeds. Writes a
 * Markdown report with SVG figures; every measurement goes through a store per setting, so an interrupted
 * run resumes and a finished one re-renders its report without training.
 */
@Command(
    name = "experiment",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Reproduces the shape of the paper's main table on stories260K or the deep test model: width pruning of the",
        "middle layers and depth pruning; no recovery, uniform LoRA rank 8, LoRA*, AdaLoRA and RankAdaptor at the",
        "same budget (and random search with the same number of fine-tunes); held-out TinyStories",
        "perplexity and zero-shot tasks over several recovery seeds. Writes report.md with SVG figures. Resumes",
        "from its stores."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "1:a file or a search failed (the message says which)", "2:invalid arguments"})
final class ExperimentCommand implements Callable<Integer> {

  /**
   * Where the held-out recovery seeds start, counted from the seed. The searches recover with the seed
   * and the next few (replicates and confirmation); held-out measurements with those same recoveries
   * would carry the luck the choice was made on, so they use seeds no search uses.
   */
  static final int HELD_OUT_SEED_OFFSET = 100;

  /** Tokens scored on each source task. */
  private static final int SOURCE_TOKENS = 4096;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin SharedOptions.Data dataOption = new SharedOptions.Data();
  @CommandLine.Mixin SharedOptions.Output output = new SharedOptions.Output();
  @CommandLine.Mixin SharedOptions.Search searchOptions = new SharedOptions.Search(CommandDefaults.EXPERIMENT);
  @CommandLine.Mixin SharedOptions.Seed seedOption = new SharedOptions.Seed();

  @CommandLine.Mixin TestBedOptions testBed = new TestBedOptions();

  @Option(names = "--settings", split = ",", paramLabel = "SETTING",
      description = "width:SHARE (share of the pruned layers' projection weights removed, the same in each), "
          + "width-global:SHARE (the same total, the least important units across the layers: unequal shares) or "
          + "depth:BLOCKS (blocks removed among them) (default: width:0.20,width:0.25,width:0.30,width:0.50 and depth:1 on stories260K, "
          + "depth:2 on the deep model).")
  List<String> settings;

  @Option(names = "--convergence", defaultValue = "0.01",
      description = "The paper's protocol stops when |predicted - measured| is at most this, in -log perplexity "
          + "(default: ${DEFAULT-VALUE}, the paper's).")
  double convergence;

  @Option(names = "--seeds", defaultValue = "3",
      description = "Recovery seeds of the held-out measurements: SEED+100, SEED+101, ..., none of them a seed the "
          + "searches chose with (default: ${DEFAULT-VALUE}).")
  int heldOutSeeds;

  @Option(names = "--zero-shot-seeds", defaultValue = "1",
      description = "Of those, how many the zero-shot tasks are measured with (default: ${DEFAULT-VALUE}: they cost "
          + "most and stories260K is at chance on them).")
  int zeroShotSeeds;

  @Option(names = "--eval-items", defaultValue = "60",
      description = "Items per zero-shot task, drawn by the seed, the same for every method (default: ${DEFAULT-VALUE}; 0: all).")
  int evalItems;

  @Option(names = "--generated-stories", defaultValue = CommandDefaults.GENERATED_STORIES,
      description = "Stories sampled from the unpruned model and added to the recovery text (default: ${DEFAULT-VALUE}).")
  int generatedStories;

  @Option(names = "--adalora-lr-scales", split = ",", defaultValue = "1,3,10,30", paramLabel = "SCALE",
      description = "AdaLoRA is recovered at the recovery's learning rate times each of these and compared at the one "
          + "best on the validation text (default: ${DEFAULT-VALUE}).")
  double[] adaLoraLearningRateScales;

  @Override
  public Integer call() {
    List<PruningSetting> parsed = validateArguments();
    PrintWriter err = spec.commandLine().getErr();
    try {
      return execute(parsed);
    } catch (IOException | RankAdaptorException | IllegalArgumentException | IllegalStateException e) {
      err.println("error: " + e.getMessage());
      err.flush();
      return 1;
    }
  }

  private List<PruningSetting> validateArguments() {
    List<PruningSetting> out = new ArrayList<>();
    if (settings == null || settings.isEmpty()) {
      settings = List.of("width:0.20", "width:0.25", "width:0.30", "width:0.50",
          testBed.model == TestBedOptions.ModelName.deep ? "depth:2" : "depth:1");
    }
    for (String s : settings) {
      PruningSetting setting = PruningSetting.parse(s).orElseThrow(() ->
          usage("--settings: '" + s + "' is neither width:SHARE, width-global:SHARE (0 < SHARE < 1) nor depth:BLOCKS"));
      if (setting.isWidth() && !(setting.share() > 0 && setting.share() < 1)) {
        throw usage("--settings: width share must be in (0, 1), got " + setting.share());
      }
      int first = testBed.firstLayer();
      int last = testBed.lastLayer();
      if (!setting.isWidth() && (setting.blocks() < 1 || setting.blocks() > last - first)) {
        throw usage("--settings: depth removes 1.." + (last - first) + " of layers " + first + ".." + last
            + ", got " + setting.blocks());
      }
      if (out.stream().anyMatch(p -> p.name().equals(setting.name()))) {
        throw usage("--settings: " + s + " is given twice");
      }
      out.add(setting);
    }
    for (String[] positive : new String[][] {
        {"--evaluations", Integer.toString(searchOptions.evaluations)},
        {"--source-configs", Integer.toString(searchOptions.sourceConfigs)},
        {"--meta-iterations", Integer.toString(searchOptions.metaIterations)},
        {"--steps", Integer.toString(searchOptions.steps)},
        {"--seeds", Integer.toString(heldOutSeeds)}, {"--zero-shot-seeds", Integer.toString(zeroShotSeeds)}}) {
      if (Integer.parseInt(positive[1]) < 1) {
        throw usage(positive[0] + " must be at least 1, got " + positive[1]);
      }
    }
    if (zeroShotSeeds > heldOutSeeds) {
      throw usage("--zero-shot-seeds (" + zeroShotSeeds + ") must not exceed --seeds (" + heldOutSeeds + ")");
    }
    for (double scale : adaLoraLearningRateScales) {
      if (!(scale > 0) || !Double.isFinite(scale)) {
        throw usage("--adalora-lr-scales must be positive, got " + scale);
      }
    }
    if (evalItems < 0 || generatedStories < 0) {
      throw usage("--eval-items and --generated-stories must not be negative");
    }
    if (!(convergence >= 0) || !Double.isFinite(convergence)) {
      throw usage("--convergence must be finite and >= 0, got " + convergence);
    }
    if (!Files.isDirectory(dataOption.data)) {
      throw usage("--data: " + dataOption.data + " is not a folder (the shared data: models/, text/, tasks/)");
    }
    if (testBed.problem() != null) {
      throw usage(testBed.problem());
    }
    return out;
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  private int execute(List<PruningSetting> pruningSettings) throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Instant started = Instant.now();
    Files.createDirectories(output.outputDir);

    StoriesTestBed bed = StoriesTestBed.load(testBed, dataOption.data, output.outputDir, searchOptions.steps,
        generatedStories, seedOption.seed, err);
    Path wikitextFile = dataOption.data.resolve("text/wikitext2/wiki.test.raw");
    Path alpacaFile = dataOption.data.resolve("text/alpaca/alpaca_data_1k.json");
    Path tasksDir = dataOption.data.resolve("tasks/llm_adapters_format");
    List<Evaluator<RecoveredModel>> sources = List.of(
        RecoveredEvaluators.perplexity("wikitext2", TextFiles.read(wikitextFile), bed.tokenizer)
            .window(StoriesTestBed.WINDOW).maxTokens(SOURCE_TOKENS).build(),
        RecoveredEvaluators.perplexity("alpaca", RecoveredEvaluators.alpacaText(AlpacaData.read(alpacaFile)), bed.tokenizer)
            .window(StoriesTestBed.WINDOW).maxTokens(SOURCE_TOKENS).build());
    long[] seeds = new long[heldOutSeeds];
    for (int i = 0; i < seeds.length; i++) {
      seeds[i] = seedOption.seed + HELD_OUT_SEED_OFFSET + i;
    }
    long[] zeroShotSeedValues = Arrays.copyOf(seeds, zeroShotSeeds);
    List<Evaluator<RecoveredModel>> zeroShot = new ArrayList<>();
    Map<String, Double> chance = new LinkedHashMap<>();
    for (Map.Entry<ZeroShotTask, List<MultipleChoiceItem>> task : TaskLoaders.llmAdaptersSuite(tasksDir).entrySet()) {
      var evaluator =
          RecoveredEvaluators.zeroShot(task.getKey(), task.getValue(), bed.tokenizer, evalItems, seedOption.seed);
      zeroShot.add(evaluator);
      chance.put(evaluator.taskId(),
          evaluator.items().stream().mapToDouble(i -> 1.0 / i.numOptions()).average().orElse(Double.NaN));
    }
    List<Evaluator<RecoveredModel>> heldOut = new ArrayList<>();
    heldOut.add(bed.test);
    heldOut.addAll(zeroShot);

    StoriesTestBed.status(err, "measuring the unpruned model on the held-out tasks");
    Map<String, Evaluation> unpruned = new LinkedHashMap<>();
    RecoveredModel unprunedModel = PretrainCommand.unadapted(bed.original);
    for (Evaluator<RecoveredModel> e : heldOut) {
      unpruned.put(e.taskId(), e.evaluate(unprunedModel));
    }

    List<SettingRun> runs = new ArrayList<>();
    for (PruningSetting setting : pruningSettings) {
      runs.add(runSetting(setting, bed, sources, zeroShot, seeds, zeroShotSeedValues, err));
    }

    ExperimentReport report = new ExperimentReport(new ExperimentSetup(bed.describe(),
        String.join(" ", spec.commandLine().getParseResult().originalArgs()), seedOption.seed, seeds, zeroShotSeeds,
        searchOptions.evaluations, searchOptions.sourceConfigs, searchOptions.metaIterations, convergence,
        searchOptions.steps, evalItems, generatedStories, bed.recovery,
        bed.recoveryData.size(), bed.recoveryData.fingerprint(), bed.parts, chance, started, Instant.now(),
        inputs(bed, wikitextFile, alpacaFile, tasksDir)),
        bed.original.config(), unpruned, runs);
    Path written = report.write(output.outputDir);
    out.println(report.summary());
    out.printf(Locale.ROOT, "report written to %s%n", written);
    out.flush();
    return 0;
  }

  /** RankAdaptor's (and the paper's protocol's) performance model. */
  private MlpPerformanceModel mlp(RankSpace space) {
    return SearchPipeline.metaLearnedMlp(space, seedOption.seed, searchOptions.metaIterations);
  }

  /** The report's inputs in a fixed order (Map.of's order changes from one JVM to the next). */
  private static Map<String, Path> inputs(StoriesTestBed bed, Path wikitext, Path alpaca, Path tasks) {
    Map<String, Path> files = new LinkedHashMap<>();
    files.put("model", bed.modelFile);
    files.put("tokenizer", bed.tokenizerFile);
    files.put("stories", bed.storiesFile);
    files.put("wikitext", wikitext);
    files.put("alpaca", alpaca);
    files.put("tasks", tasks);
    return files;
  }

  private SettingRun runSetting(PruningSetting setting, StoriesTestBed bed, List<Evaluator<RecoveredModel>> sources,
      List<Evaluator<RecoveredModel>> zeroShot, long[] seeds, long[] zeroShotSeedValues, PrintWriter err)
      throws IOException {
    long start = System.nanoTime();
    StoriesTestBed.Pruned pruned = bed.prune(setting, err);
    RankSpace rankSpace = pruned.withUniformBudget(bed.recovery);
    LoraRecoveryRunner runner = bed.runner(pruned.model(), err);
    Path folder = output.outputDir.resolve(setting.name());
    PrunedSearchResult result;
    double computeSeconds;
    try (ObservationStore store = ObservationStore.open(folder.resolve("observations.jsonl"))) {
      PrunedModelSearch.Builder search = SearchPipeline.search(pruned.model(), runner, bed.target, rankSpace,
              searchOptions, seedOption.seed, mlp(rankSpace), store, err)
          .paperProtocol(mlp(rankSpace), convergence)
          .baselines("uniform", "lora*", "none")
          .randomSearch(true)
          .adaLora(bed.adaLoraRunners(pruned.model(), adaLoraLearningRateScales, err))
          .heldOutSeeds(seeds)
          .outputFolder(folder)
          .pruningReport(pruned.reportJson())
          .setting("setting", setting.name())
          .setting("recoveryDataFingerprint", bed.split.train().fingerprint());
      sources.forEach(search::source);
      search.heldOut(bed.test);
      zeroShot.forEach(e -> search.heldOut(e, zeroShotSeedValues));
      result = search.build().run();
      // What the measurements cost when they were made, whichever run made them.
      computeSeconds = store.all().stream().mapToDouble(Observation::costSeconds).sum();
    }
    StoriesTestBed.status(err, String.format(Locale.ROOT, "%s done in %.0f s (%d recoveries): RankAdaptor chose %s",
        setting.name(), (System.nanoTime() - start) / 1e9, result.recoveries(), result.best().format()));
    return new SettingRun(setting, pruned.model().config(), pruned.keptLayers(), rankSpace, pruned.reportJson(),
        pruned.parametersBefore(), pruned.parametersAfter(), result,
        Duration.ofMillis(Math.round(computeSeconds * 1000)));
  }

}
