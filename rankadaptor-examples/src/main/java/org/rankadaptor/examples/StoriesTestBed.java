package org.rankadaptor.examples;

import com.google.common.hash.Hashing;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.rankadaptor.Evaluator;
import org.rankadaptor.ParameterBudget;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.Seeds;
import org.rankadaptor.dl4j.RecoveredEvaluators;
import org.rankadaptor.dl4j.io.TextFiles;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.io.Llama2cTokenizer;
import org.rankadaptor.dl4j.llama.GenerationSettings;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaGenerator;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.prune.DepthPruningResult;
import org.rankadaptor.dl4j.prune.ScoredUnit;
import org.rankadaptor.dl4j.prune.WidthPruner;
import org.rankadaptor.dl4j.prune.WidthPruningResult;
import org.rankadaptor.dl4j.recover.AdaLoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.LoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.dl4j.recover.RecoverySettings;
import org.rankadaptor.dl4j.recover.TextWindows;
import org.rankadaptor.dl4j.recover.TrainingData;
import org.rankadaptor.examples.pretrain.DeepStoriesModel;

/**
 * The stories test bed that the {@code experiment} and {@code table} commands share: the model (the
 * shared {@code stories260K}, or the deeper model pretrained from it) and its tokenizer, the real
 * TinyStories excerpt split into recovery, validation (the search's target) and test text, the recovery
 * data (the recovery part plus stories sampled from the unpruned model), and the pruning settings. One
 * home, so that a table of recoveries and the experiment measure exactly the same thing.
 */
final class StoriesTestBed {

  /** Tokens per perplexity window. */
  static final int WINDOW = 128;

  /** Shares of the TinyStories excerpt, split at story boundaries: recovery, validation (the target), test. */
  private static final double RECOVERY_SHARE = 0.6;

  private static final double VALIDATION_SHARE = 0.2;

  /** Recovery examples held out for the recovery's own validation (best-step choice). */
  private static final int RECOVERY_VALIDATION = 16;

  private static final long GENERATION_SALT = 0x53_54_4F_52_59L;

  final Path data;
  final TestBedOptions.ModelName modelName;
  /** The unpruned model's file or folder. */
  final Path modelFile;
  /** The first and last layer width pruning prunes (and depth pruning may remove), 0-based. */
  final int firstLayer;
  final int lastLayer;
  final Path tokenizerFile;
  final Path storiesFile;
  final long seed;
  final LlamaModel original;
  final Llama2cTokenizer tokenizer;
  /** Recovery, validation and test text. */
  final List<String> parts;
  final RecoverySettings recovery;
  final TrainingData recoveryData;
  final TrainingData.Split split;
  /** Perplexity of the validation text: the search's target. */
  final Evaluator<RecoveredModel> target;
  /** Perplexity of the test text: held out from every choice. */
  final Evaluator<RecoveredModel> test;

  private StoriesTestBed(Path data, TestBedOptions.ModelName modelName, Path modelFile, int firstLayer, int lastLayer, long seed, LlamaModel original,
      Llama2cTokenizer tokenizer, List<String> parts, RecoverySettings recovery, TrainingData recoveryData) {
    this.data = data;
    this.modelName = modelName;
    this.modelFile = modelFile;
    this.firstLayer = firstLayer;
    this.lastLayer = lastLayer;
    this.tokenizerFile = data.resolve("models/stories260K/tok512.bin");
    this.storiesFile = data.resolve("text/tinystories/TinyStories-valid-excerpt.txt");
    this.seed = seed;
    this.original = original;
    this.tokenizer = tokenizer;
    this.parts = parts;
    this.recovery = recovery;
    this.recoveryData = recoveryData;
    this.split = recoveryData.split(RECOVERY_VALIDATION, seed);
    this.target = RecoveredEvaluators.perplexity("tinystories-valid", parts.get(1), tokenizer).window(WINDOW).build();
    this.test = RecoveredEvaluators.perplexity("tinystories-test", parts.get(2), tokenizer).window(WINDOW).build();
  }

  /**
   * Loads the model and text from the shared data folder and prepares the recovery data. The deep model
   * is loaded from its cache, or pretrained from stories260K and cached on the first call.
   *
   * @param cacheDir where the sampled stories are kept for a later run with the same key
   * @param steps optimiser steps per recovery
   * @param generatedStories stories sampled from the unpruned model and added to the recovery text
   */
  static StoriesTestBed load(TestBedOptions which, Path data, Path cacheDir, int steps, int generatedStories,
      long seed, PrintWriter err) throws IOException {
    Path teacherFile = data.resolve("models/stories260K/stories260K.bin");
    status(err, "loading " + teacherFile);
    LlamaModel teacher = LlamaCheckpoints.fromLlama2c(Llama2cCheckpoint.read(teacherFile), DataType.FLOAT);
    Llama2cTokenizer tok =
        Llama2cTokenizer.read(data.resolve("models/stories260K/tok512.bin"), teacher.config().vocabSize());
    LlamaModel original = teacher;
    Path modelFile = teacherFile;
    if (which.model == TestBedOptions.ModelName.deep) {
      DeepStoriesModel.Prepared deep = DeepStoriesModel.obtain(which.deep.cacheRoot(), which.deep.settings(), teacher,
          sha256(teacherFile), tok, message -> status(err, message));
      original = deep.model();
      modelFile = deep.folder();
    }
    List<String> parts =
        splitStories(TextFiles.read(data.resolve("text/tinystories/TinyStories-valid-excerpt.txt")));
    String generated = generatedStories(original, tok, modelFile, cacheDir, generatedStories, seed, err);
    RecoverySettings recovery = RecoverySettings.tiny().withMaxSteps(steps);
    TrainingData recoveryData = TextWindows.of(parts.get(0) + "\n" + generated, tok, recovery.cutoffLength(),
        recovery.cutoffLength());
    return new StoriesTestBed(data, which.model, modelFile, which.firstLayer(), which.lastLayer(), seed, original, tok, parts, recovery, recoveryData);
  }

  /** The sha256 of a file, or of every file of a folder in name order. */
  static String sha256(Path path) throws IOException {
    if (!Files.isDirectory(path)) {
      return com.google.common.io.Files.asByteSource(path.toFile()).hash(Hashing.sha256()).toString();
    }
    var h = Hashing.sha256().newHasher();
    try (var files = Files.list(path)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        h.putString(f.getFileName().toString(), java.nio.charset.StandardCharsets.UTF_8);
        h.putBytes(Files.readAllBytes(f));
      }
    }
    return h.hash().toString();
  }

  /** The unpruned model, for a report. */
  ExperimentSetup.TestModel describe() {
    boolean deep = modelName == TestBedOptions.ModelName.deep;
    String description = deep
        ? "the deep test model, pretrained by the project on stories sampled from stories260K (`rankadaptor "
            + "pretrain`; `" + modelFile.getFileName() + "`)"
        : "stories260K (llama2.c)";
    return new ExperimentSetup.TestModel(deep ? "the deep test model" : "stories260K", description, firstLayer,
        lastLayer);
  }

  /** A recovery runner for a pruned model of this test bed, printing its progress to {@code err}. */
  LoraRecoveryRunner runner(LlamaModel pruned, PrintWriter err) {
    return SearchPipeline.runner(pruned, split, recovery, new SearchConsole.Progress(err));
  }

  /**
   * AdaLoRA runners for a pruned model of this test bed, one per learning rate: the recovery's learning
   * rate times each scale, otherwise the same data and recovery settings as {@link #runner} and
   * AdaLoRA's defaults for the recovery's length.
   */
  AdaLoraRecoveryRunner[] adaLoraRunners(LlamaModel pruned, double[] learningRateScales, PrintWriter err) {
    AdaLoraRecoveryRunner[] out = new AdaLoraRecoveryRunner[learningRateScales.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = AdaLoraRecoveryRunner.builder(pruned, split.train(), split.validation())
          .settings(recovery.withLearningRate(recovery.learningRate() * learningRateScales[i]))
          .listener(new SearchConsole.Progress(err))
          .build();
    }
    return out;
  }

  /**
   * The model after one pruning setting.
   *
   * @param model the pruned model
   * @param reportJson the pruning report
   * @param parametersBefore parameters of the unpruned model
   * @param parametersAfter parameters of the pruned model
   * @param keptLayers the unpruned model's index of each remaining layer
   * @param space the rank space: the pruned layers searched after width pruning, every remaining layer after
   *     depth pruning; without a budget
   */
  record Pruned(LlamaModel model, String reportJson, long parametersBefore, long parametersAfter,
      List<Integer> keptLayers, RankSpace space) {

    /** The space within uniform rank 8's trainable parameters: the budget every method is held to. */
    RankSpace withUniformBudget(RecoverySettings recovery) {
      long[] perRank = LoraAdapters.parametersPerRank(model.config(), recovery.targets());
      long uniformCost = new ParameterBudget(perRank, Long.MAX_VALUE)
          .trainableParameters(RankConfig.uniform(model.config().nLayers(), RankSpace.DEFAULT_PINNED_RANK));
      return space.withBudget(new ParameterBudget(perRank, uniformCost));
    }
  }

  /** Prunes the unpruned model as the setting says, calibrating on the recovery text. */
  Pruned prune(PruningSetting setting, PrintWriter err) {
    int n = original.config().nLayers();
    List<Integer> keptLayers = new ArrayList<>();
    if (setting.isWidth()) {
      double global = WidthPruner.globalRatioForLayerShare(original.config(), firstLayer, lastLayer, setting.share());
      status(err, String.format(Locale.ROOT, "%s: width pruning %.0f %% of layers %d..%d (%.1f %% of the model)%s",
          setting.name(), 100 * setting.share(), firstLayer, lastLayer, 100 * global,
          setting.acrossLayers() ? ", units ranked across the layers" : ""));
      WidthPruningResult r = SearchPipeline.widthPrune(original, parts.get(0), tokenizer, firstLayer, lastLayer, global,
          seed, setting.acrossLayers());
      for (int l = 0; l < n; l++) {
        keptLayers.add(l);
      }
      return new Pruned(r.model(), r.report().toJson(), r.report().parametersBefore(), r.report().parametersAfter(),
          keptLayers, capped(r.model(), RankSpace.builder(n).searchLayers(firstLayer, lastLayer), firstLayer,
              lastLayer));
    }
    status(err, setting.name() + ": depth pruning " + setting.blocks() + " block(s) among layers " + firstLayer
        + ".." + lastLayer + " (Taylor+)");
    DepthPruningResult r = SearchPipeline.depthPrune(original, parts.get(0), tokenizer, setting.blocks(), firstLayer,
        n - 1 - lastLayer, seed);
    List<Integer> removed = r.report().removedBlocks().stream().map(ScoredUnit::index).toList();
    for (int l = 0; l < n; l++) {
      if (!removed.contains(l)) {
        keptLayers.add(l);
      }
    }
    // No layer is narrower than another: every remaining layer's rank is searched.
    return new Pruned(r.model(), r.report().toJson(), r.report().parametersBefore(), r.report().parametersAfter(),
        keptLayers, capped(r.model(), RankSpace.builder(r.model().config().nLayers()), 0,
            r.model().config().nLayers() - 1));
  }

  /**
   * The space with each searched layer's candidates cut at its highest useful rank: a layer pruned to one
   * narrow key/value head (as ranking across layers can leave one) has projections narrower than the
   * largest candidate, and a rank above that adds parameters, not capacity.
   */
  private RankSpace capped(LlamaModel pruned, RankSpace.Builder space, int first, int last) {
    for (int l = first; l <= last; l++) {
      int max = LoraAdapters.maxRank(pruned.config(), l, recovery.targets());
      int[] allowed = RankSpace.DEFAULT_CANDIDATES.stream().mapToInt(Integer::intValue).filter(r -> r <= max)
          .toArray();
      if (allowed.length < RankSpace.DEFAULT_CANDIDATES.size()) {
        space.layerCandidates(l, allowed);
      }
    }
    return space.build();
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
   * in {@code cacheDir} with the key of what made them, and reused by a later run with the same key
   * (sampling token by token is the slowest part of preparing a run).
   */
  private static String generatedStories(LlamaModel model, Llama2cTokenizer tok, Path modelFile, Path cacheDir,
      int count, long seed, PrintWriter err) throws IOException {
    int maxNew = Math.min(256, model.config().maxSeqLen() - 1);
    String key = String.format(Locale.ROOT, "model sha256 %s, %d stories, seed %d, %d new tokens, temperature 1.0, "
        + "top-p 0.9%n", sha256(modelFile), count, seed, maxNew);
    Path text = cacheDir.resolve("data/generated-stories.txt");
    Path keyFile = cacheDir.resolve("data/generated-stories.key");
    if (Files.isRegularFile(text) && Files.isRegularFile(keyFile) && Files.readString(keyFile).equals(key)) {
      status(err, "reusing the " + count + " stories sampled earlier (" + text + ")");
      return Files.readString(text);
    }
    status(err, "sampling " + count + " stories from the unpruned model for the recovery data");
    List<GenerationSettings> settings = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      settings.add(new GenerationSettings(maxNew, 1.0, 0.9, Seeds.mix(seed ^ GENERATION_SALT, i)));
    }
    StringBuilder sb = new StringBuilder();
    if (count > 0) {
      for (int[] ids : new LlamaGenerator(model).generate(new int[] {tok.bosId()}, settings, null)) {
        sb.append(tok.decode(ids).replace('\n', ' ').trim()).append('\n');
      }
    }
    Files.createDirectories(text.getParent());
    Files.writeString(text, sb.toString());
    Files.writeString(keyFile, key);
    return sb.toString();
  }

  static void status(PrintWriter err, String message) {
    err.println(message);
    err.flush();
  }
}
