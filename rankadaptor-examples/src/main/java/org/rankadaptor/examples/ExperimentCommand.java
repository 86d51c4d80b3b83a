package org.rankadaptor.examples;

import com.google.common.hash.Hashing;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.rankadaptor.Evaluation;
import org.rankadaptor.Evaluator;
import org.rankadaptor.Observation;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.ParameterBudget;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankAdaptorException;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.Seeds;
import org.rankadaptor.dl4j.PrunedModelSearch;
import org.rankadaptor.dl4j.PrunedSearchResult;
import org.rankadaptor.dl4j.RecoveredEvaluators;
import org.rankadaptor.dl4j.eval.MultipleChoiceItem;
import org.rankadaptor.dl4j.eval.TaskLoaders;
import org.rankadaptor.dl4j.eval.ZeroShotTask;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.io.Llama2cTokenizer;
import org.rankadaptor.dl4j.llama.GenerationSettings;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.predictor.MlpConfig;
import org.rankadaptor.dl4j.predictor.MlpPerformanceModel;
import org.rankadaptor.dl4j.prune.BlockImportance;
import org.rankadaptor.dl4j.prune.CalibrationSet;
import org.rankadaptor.dl4j.prune.DepthPruner;
import org.rankadaptor.dl4j.prune.DepthPruningResult;
import org.rankadaptor.dl4j.prune.DepthPruningSettings;
import org.rankadaptor.dl4j.prune.GroupReduction;
import org.rankadaptor.dl4j.prune.Importance;
import org.rankadaptor.dl4j.prune.ScoredUnit;
import org.rankadaptor.dl4j.prune.WidthPruner;
import org.rankadaptor.dl4j.prune.WidthPruningResult;
import org.rankadaptor.dl4j.prune.WidthPruningSettings;
import org.rankadaptor.dl4j.recover.AlpacaData;
import org.rankadaptor.dl4j.recover.LoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.dl4j.recover.RecoverySettings;
import org.rankadaptor.dl4j.recover.TextWindows;
import org.rankadaptor.dl4j.recover.TrainingData;
import org.rankadaptor.dl4j.recover.TrainingLog;
import org.rankadaptor.examples.ExperimentReport.PruningSetting;
import org.rankadaptor.examples.ExperimentReport.SettingRun;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The experiment report: the shape of the paper's main table at small scale on stories260K. For each
 * pruning setting (width pruning of layers 1..3 at several shares, and depth pruning), the pruned model
 * is recovered with no recovery, uniform rank 8, LoRA* and the ranks RankAdaptor chooses within the same
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
        "Reproduces the shape of the paper's main table on stories260K: width pruning of layers 1..3 and depth",
        "pruning; no recovery, uniform LoRA rank 8, LoRA* and RankAdaptor at the same trainable-parameter budget",
        "(and random search with the same number of fine-tunes); held-out TinyStories perplexity and zero-shot",
        "tasks over several recovery seeds. Writes report.md with SVG figures. Resumes from its stores."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "1:a file or a search failed (the message says which)", "2:invalid arguments"})
final class ExperimentCommand implements Callable<Integer> {

  private static final Pattern SETTING = Pattern.compile("(width):(0?\\.\\d+)|(depth):(\\d+)");

  /** The pruned layers of the width settings, and the layers depth pruning may remove (0-based). */
  static final int FIRST_LAYER = 1;

  static final int LAST_LAYER = 3;

  /** Tokens per perplexity window. */
  private static final int WINDOW = 128;

  /** Tokens scored on each source task. */
  private static final int SOURCE_TOKENS = 4096;

  /** Shares of the TinyStories excerpt, split at story boundaries: recovery, validation (the target), test. */
  private static final double RECOVERY_SHARE = 0.6;

  private static final double VALIDATION_SHARE = 0.2;

  /** Recovery examples held out for the recovery's own validation (best-step choice). */
  private static final int RECOVERY_VALIDATION = 16;

  private static final long GENERATION_SALT = 0x53_54_4F_52_59L;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--data", defaultValue = "../shared/data", paramLabel = "DIR",
      description = "The shared data folder (models/, text/, tasks/) (default: ${DEFAULT-VALUE}).")
  Path data;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
  Path outputDir;

  @Option(names = "--settings", split = ",", paramLabel = "SETTING",
      defaultValue = "width:0.20,width:0.25,width:0.30,width:0.50,depth:1",
      description = "width:SHARE (share of layers 1..3's projection weights removed) or depth:BLOCKS "
          + "(blocks removed among layers 1..3) (default: ${DEFAULT-VALUE}).")
  List<String> settings;

  @Option(names = "--evaluations", defaultValue = "8",
      description = "Target fine-tunes of RankAdaptor and of random search, at most (default: ${DEFAULT-VALUE}).")
  int evaluations;

  @Option(names = "--source-configs", defaultValue = "5",
      description = "Configurations recovered and measured on the source tasks (default: ${DEFAULT-VALUE}).")
  int sourceConfigs;

  @Option(names = "--meta-iterations", defaultValue = "100",
      description = "Reptile iterations of the MLP's meta-learning (default: ${DEFAULT-VALUE}; the paper's 400).")
  int metaIterations;

  @Option(names = "--convergence", defaultValue = "0.01",
      description = "Stop when |predicted - measured| is at most this, in -log perplexity (default: ${DEFAULT-VALUE}, the paper's).")
  double convergence;

  @Option(names = "--steps", defaultValue = "24", description = "Optimiser steps per recovery (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--seeds", defaultValue = "3",
      description = "Recovery seeds of the held-out measurements, the search's first (default: ${DEFAULT-VALUE}).")
  int heldOutSeeds;

  @Option(names = "--zero-shot-seeds", defaultValue = "1",
      description = "Of those, how many the zero-shot tasks are measured with (default: ${DEFAULT-VALUE}: they cost "
          + "most and stories260K is at chance on them).")
  int zeroShotSeeds;

  @Option(names = "--eval-items", defaultValue = "60",
      description = "Items per zero-shot task, drawn by the seed, the same for every method (default: ${DEFAULT-VALUE}; 0: all).")
  int evalItems;

  @Option(names = "--generated-stories", defaultValue = "48",
      description = "Stories sampled from the unpruned model and added to the recovery text (default: ${DEFAULT-VALUE}).")
  int generatedStories;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of every random choice (default: ${DEFAULT-VALUE}).")
  long seed;

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
    for (String s : settings) {
      Matcher m = SETTING.matcher(s.trim());
      if (!m.matches()) {
        throw usage("--settings: '" + s + "' is neither width:SHARE (0 < SHARE < 1) nor depth:BLOCKS");
      }
      PruningSetting setting = m.group(1) != null
          ? PruningSetting.width(Double.parseDouble(m.group(2)))
          : PruningSetting.depth(Integer.parseInt(m.group(4)));
      if (setting.isWidth() && !(setting.share() > 0 && setting.share() < 1)) {
        throw usage("--settings: width share must be in (0, 1), got " + setting.share());
      }
      if (!setting.isWidth() && (setting.blocks() < 1 || setting.blocks() > LAST_LAYER - FIRST_LAYER)) {
        throw usage("--settings: depth removes 1.." + (LAST_LAYER - FIRST_LAYER) + " of layers " + FIRST_LAYER
            + ".." + LAST_LAYER + ", got " + setting.blocks());
      }
      if (out.stream().anyMatch(p -> p.name().equals(setting.name()))) {
        throw usage("--settings: " + s + " is given twice");
      }
      out.add(setting);
    }
    for (String[] positive : new String[][] {
        {"--evaluations", Integer.toString(evaluations)}, {"--source-configs", Integer.toString(sourceConfigs)},
        {"--meta-iterations", Integer.toString(metaIterations)}, {"--steps", Integer.toString(steps)},
        {"--seeds", Integer.toString(heldOutSeeds)}, {"--zero-shot-seeds", Integer.toString(zeroShotSeeds)}}) {
      if (Integer.parseInt(positive[1]) < 1) {
        throw usage(positive[0] + " must be at least 1, got " + positive[1]);
      }
    }
    if (zeroShotSeeds > heldOutSeeds) {
      throw usage("--zero-shot-seeds (" + zeroShotSeeds + ") must not exceed --seeds (" + heldOutSeeds + ")");
    }
    if (evalItems < 0 || generatedStories < 0) {
      throw usage("--eval-items and --generated-stories must not be negative");
    }
    if (!(convergence >= 0) || !Double.isFinite(convergence)) {
      throw usage("--convergence must be finite and >= 0, got " + convergence);
    }
    if (!Files.isDirectory(data)) {
      throw usage("--data: " + data + " is not a folder (the shared data: models/, text/, tasks/)");
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
    Files.createDirectories(outputDir);

    Path modelFile = data.resolve("models/stories260K/stories260K.bin");
    Path tokenizerFile = data.resolve("models/stories260K/tok512.bin");
    Path storiesFile = data.resolve("text/tinystories/TinyStories-valid-excerpt.txt");
    Path wikitextFile = data.resolve("text/wikitext2/wiki.test.raw");
    Path alpacaFile = data.resolve("text/alpaca/alpaca_data_1k.json");
    Path tasksDir = data.resolve("tasks/llm_adapters_format");
    status(err, "loading " + modelFile);
    LlamaModel original = LlamaModel.fromLlama2c(Llama2cCheckpoint.read(modelFile), DataType.FLOAT);
    Llama2cTokenizer tok = Llama2cTokenizer.read(tokenizerFile, original.config().vocabSize());

    // Three disjoint parts of the real text: recovery, the search's target (validation), the report's test.
    List<String> parts = splitStories(Files.readString(storiesFile));
    String generated = generatedStories(original, tok, modelFile, err);
    RecoverySettings recovery = RecoverySettings.tiny().withMaxSteps(steps);
    TrainingData recoveryData = TextWindows.of(parts.get(0) + "\n" + generated, tok, recovery.cutoffLength(),
        recovery.cutoffLength());
    TrainingData.Split split = recoveryData.split(RECOVERY_VALIDATION, seed);

    Evaluator<RecoveredModel> target = RecoveredEvaluators.perplexity("tinystories-valid", parts.get(1), tok, WINDOW, 0);
    Evaluator<RecoveredModel> test = RecoveredEvaluators.perplexity("tinystories-test", parts.get(2), tok, WINDOW, 0);
    List<Evaluator<RecoveredModel>> sources = List.of(
        RecoveredEvaluators.perplexity("wikitext2", Files.readString(wikitextFile), tok, WINDOW, SOURCE_TOKENS),
        RecoveredEvaluators.perplexity("alpaca",
            RecoveredEvaluators.alpacaText(AlpacaData.read(alpacaFile)), tok, WINDOW,
            SOURCE_TOKENS));
    long[] seeds = new long[heldOutSeeds];
    for (int i = 0; i < seeds.length; i++) {
      seeds[i] = seed + i;
    }
    long[] zeroShotSeedValues = Arrays.copyOf(seeds, zeroShotSeeds);
    List<Evaluator<RecoveredModel>> zeroShot = new ArrayList<>();
    Map<String, Double> chance = new LinkedHashMap<>();
    for (Map.Entry<ZeroShotTask, List<MultipleChoiceItem>> task : TaskLoaders.llmAdaptersSuite(tasksDir).entrySet()) {
      var evaluator = RecoveredEvaluators.zeroShot(task.getKey(), task.getValue(), tok, evalItems, seed);
      zeroShot.add(evaluator);
      chance.put(evaluator.taskId(),
          evaluator.items().stream().mapToDouble(i -> 1.0 / i.numOptions()).average().orElse(Double.NaN));
    }
    List<Evaluator<RecoveredModel>> heldOut = new ArrayList<>();
    heldOut.add(test);
    heldOut.addAll(zeroShot);

    status(err, "measuring the unpruned model on the held-out tasks");
    Map<String, Evaluation> unpruned = new LinkedHashMap<>();
    RecoveredModel unprunedModel = unadapted(original);
    for (Evaluator<RecoveredModel> e : heldOut) {
      unpruned.put(e.taskId(), e.evaluate(unprunedModel));
    }

    List<SettingRun> runs = new ArrayList<>();
    for (PruningSetting setting : pruningSettings) {
      runs.add(runSetting(setting, original, tok, parts.get(0), split, recovery, target, sources, test, zeroShot,
          seeds, zeroShotSeedValues, err));
    }

    ExperimentReport report = new ExperimentReport(new ExperimentReport.Setup(
        String.join(" ", spec.commandLine().getParseResult().originalArgs()), seed, seeds, zeroShotSeeds, evaluations,
        sourceConfigs, metaIterations, convergence, steps, evalItems, generatedStories, recovery,
        recoveryData.size(), recoveryData.fingerprint(), parts, chance, started, Instant.now(),
        Map.of("model", modelFile, "tokenizer", tokenizerFile, "stories", storiesFile, "wikitext", wikitextFile,
            "alpaca", alpacaFile, "tasks", tasksDir)),
        original.config(), unpruned, runs);
    Path written = report.write(outputDir);
    out.println(report.summary());
    out.printf(Locale.ROOT, "report written to %s%n", written);
    out.flush();
    return 0;
  }

  private SettingRun runSetting(PruningSetting setting, LlamaModel original, Llama2cTokenizer tok,
      String recoveryText, TrainingData.Split split, RecoverySettings recovery, Evaluator<RecoveredModel> target,
      List<Evaluator<RecoveredModel>> sources, Evaluator<RecoveredModel> test,
      List<Evaluator<RecoveredModel>> zeroShot, long[] seeds, long[] zeroShotSeedValues, PrintWriter err)
      throws IOException {
    long start = System.nanoTime();
    int n = original.config().nLayers();
    LlamaModel pruned;
    String reportJson;
    long before;
    long after;
    List<Integer> keptLayers = new ArrayList<>();
    RankSpace.Builder space;
    if (setting.isWidth()) {
      double global = WidthPruner.globalRatioForLayerShare(original.config(), FIRST_LAYER, LAST_LAYER, setting.share());
      status(err, String.format(Locale.ROOT, "%s: width pruning %.0f %% of layers %d..%d (%.1f %% of the model)",
          setting.name(), 100 * setting.share(), FIRST_LAYER, LAST_LAYER, 100 * global));
      CalibrationSet calibration = CalibrationSet.fromText(recoveryText, tok, CalibrationSet.DEFAULT_SAMPLES,
          CalibrationSet.WIDTH_SAMPLE_LENGTH, seed);
      WidthPruningResult r = WidthPruner.prune(original, calibration,
          new WidthPruningSettings(Importance.ELEMENT1, GroupReduction.SUM, FIRST_LAYER, LAST_LAYER, global, seed));
      pruned = r.model();
      reportJson = r.report().toJson();
      before = r.report().parametersBefore();
      after = r.report().parametersAfter();
      for (int l = 0; l < n; l++) {
        keptLayers.add(l);
      }
      space = RankSpace.builder(n).searchLayers(FIRST_LAYER, LAST_LAYER);
    } else {
      status(err, setting.name() + ": depth pruning " + setting.blocks() + " block(s) among layers " + FIRST_LAYER
          + ".." + LAST_LAYER + " (Taylor+)");
      CalibrationSet calibration = CalibrationSet.fromText(recoveryText, tok, CalibrationSet.DEFAULT_SAMPLES,
          CalibrationSet.DEPTH_SAMPLE_LENGTH, seed);
      DepthPruningResult r = DepthPruner.prune(original, calibration,
          new DepthPruningSettings(BlockImportance.TAYLOR, setting.blocks(), FIRST_LAYER, n - 1 - LAST_LAYER));
      pruned = r.model();
      reportJson = r.report().toJson();
      before = r.report().parametersBefore();
      after = r.report().parametersAfter();
      List<Integer> removed = r.report().removedBlocks().stream().map(ScoredUnit::index).toList();
      for (int l = 0; l < n; l++) {
        if (!removed.contains(l)) {
          keptLayers.add(l);
        }
      }
      // No layer is narrower than another: every remaining layer's rank is searched.
      space = RankSpace.builder(pruned.config().nLayers());
    }
    // The budget is uniform rank 8's trainable parameters: every method trains at most as many.
    long[] perRank = LoraAdapters.parametersPerRank(pruned.config(), recovery.targets());
    long uniformCost = new ParameterBudget(perRank, Long.MAX_VALUE)
        .trainableParameters(RankConfig.uniform(pruned.config().nLayers(), RankSpace.DEFAULT_PINNED_RANK));
    RankSpace rankSpace = space.budget(new ParameterBudget(perRank, uniformCost)).build();

    LoraRecoveryRunner runner = LoraRecoveryRunner.builder(pruned, split.train(), split.validation())
        .settings(recovery)
        .listener(new SearchConsole.Progress(err))
        .build();
    MlpConfig mlp = MlpConfig.paper();
    Path folder = outputDir.resolve(setting.name());
    PrunedSearchResult result;
    double computeSeconds;
    try (ObservationStore store = ObservationStore.open(folder.resolve("observations.jsonl"))) {
      PrunedModelSearch.Builder search = PrunedModelSearch.builder(pruned, runner, target)
          .space(rankSpace)
          .sourceConfigurations(sourceConfigs)
          .store(store)
          .seed(seed)
          .maxEvaluations(evaluations)
          .performanceModel(new MlpPerformanceModel(rankSpace, mlp.withSeed(seed)
              .withMeta(metaIterations, mlp.metaInnerSteps(), mlp.metaStepSize())))
          .searchOptions(s -> s.convergence(convergence, 1))
          .baselines("uniform", "lora*", "none")
          .randomSearch(true)
          .heldOutSeeds(seeds)
          .listener(new SearchConsole.SearchProgress(err))
          .outputFolder(folder)
          .pruningReport(reportJson)
          .setting("setting", setting.name())
          .setting("recoveryDataFingerprint", split.train().fingerprint());
      recovery.describe().forEach((k, v) -> search.setting("recovery." + k, v));
      sources.forEach(search::source);
      search.heldOut(test);
      zeroShot.forEach(e -> search.heldOut(e, zeroShotSeedValues));
      result = search.build().run();
      // What the measurements cost when they were made, whichever run made them.
      computeSeconds = store.all().stream().mapToDouble(Observation::costSeconds).sum();
    }
    status(err, String.format(Locale.ROOT, "%s done in %.0f s (%d recoveries): RankAdaptor chose %s",
        setting.name(), (System.nanoTime() - start) / 1e9, result.recoveries(), result.best().format()));
    return new SettingRun(setting, pruned.config(), keptLayers, rankSpace, reportJson, before, after, result,
        Duration.ofMillis(Math.round(computeSeconds * 1000)));
  }

  /** The excerpt's stories (one per line) in three consecutive parts by characters: 60, 20 and 20 %. */
  static List<String> splitStories(String text) {
    String[] lines = text.split("\n");
    long total = text.length();
    StringBuilder[] parts = {new StringBuilder(), new StringBuilder(), new StringBuilder()};
    long seen = 0;
    for (String line : lines) {
      double position = (double) seen / total;
      int part = position < RECOVERY_SHARE ? 0 : position < RECOVERY_SHARE + VALIDATION_SHARE ? 1 : 2;
      parts[part].append(line).append('\n');
      seen += line.length() + 1;
    }
    for (int i = 0; i < parts.length; i++) {
      if (parts[i].toString().isBlank()) {
        throw new IllegalArgumentException("the TinyStories excerpt has too few stories to split into recovery, "
            + "validation and test text (part " + i + " is empty)");
      }
    }
    return List.of(parts[0].toString(), parts[1].toString(), parts[2].toString());
  }

  /**
   * Stories sampled from the unpruned model (temperature 1, top-p 0.9), one seed each, one per line; kept
   * in the output folder with the key of what made them, and reused by a later run with the same key
   * (sampling token by token is the slowest part of preparing a run).
   */
  private String generatedStories(LlamaModel model, Llama2cTokenizer tok, Path modelFile, PrintWriter err)
      throws IOException {
    int maxNew = Math.min(256, model.config().maxSeqLen() - 1);
    String key = String.format(Locale.ROOT, "model sha256 %s, %d stories, seed %d, %d new tokens, temperature 1.0, "
        + "top-p 0.9%n", com.google.common.io.Files.asByteSource(modelFile.toFile()).hash(Hashing.sha256()),
        generatedStories, seed, maxNew);
    Path text = outputDir.resolve("data/generated-stories.txt");
    Path keyFile = outputDir.resolve("data/generated-stories.key");
    if (Files.isRegularFile(text) && Files.isRegularFile(keyFile) && Files.readString(keyFile).equals(key)) {
      status(err, "reusing the " + generatedStories + " stories sampled earlier (" + text + ")");
      return Files.readString(text);
    }
    status(err, "sampling " + generatedStories + " stories from the unpruned model for the recovery data");
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < generatedStories; i++) {
      int[] ids = model.generate(new int[] {tok.bosId()},
          new GenerationSettings(maxNew, 1.0, 0.9, Seeds.mix(seed ^ GENERATION_SALT, i)), null);
      sb.append(tok.decode(ids).replace('\n', ' ').trim()).append('\n');
    }
    Files.createDirectories(text.getParent());
    Files.writeString(text, sb.toString());
    Files.writeString(keyFile, key);
    return sb.toString();
  }

  private static RecoveredModel unadapted(LlamaModel model) {
    int[] zeros = new int[model.config().nLayers()];
    LoraAdapters none = LoraAdapters.init(model.config(), zeros, 1.0, 0, model.dataType());
    TrainingLog log = new TrainingLog(List.of(), List.of(), 0, Double.NaN, 0, 0, 0);
    return new RecoveredModel(model, none, RankConfig.of(zeros), log,
        new Provenance(0, "unpruned", "", Map.of()));
  }

  private static void status(PrintWriter err, String message) {
    err.println(message);
    err.flush();
  }
}
