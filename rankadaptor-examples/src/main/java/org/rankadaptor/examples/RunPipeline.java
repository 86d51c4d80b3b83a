package org.rankadaptor.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.Evaluator;
import org.rankadaptor.RankSpace;
import org.rankadaptor.dl4j.RecoveredEvaluators;
import org.rankadaptor.dl4j.eval.TaskLoaders;
import org.rankadaptor.dl4j.io.HfTokenizer;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.io.Llama2cTokenizer;
import org.rankadaptor.dl4j.io.TextFiles;
import org.rankadaptor.dl4j.io.Tokenizer;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.prune.BlockImportance;
import org.rankadaptor.dl4j.prune.CalibrationSet;
import org.rankadaptor.dl4j.prune.DepthPruner;
import org.rankadaptor.dl4j.prune.DepthPruningResult;
import org.rankadaptor.dl4j.prune.DepthPruningSettings;
import org.rankadaptor.dl4j.prune.GroupReduction;
import org.rankadaptor.dl4j.prune.Importance;
import org.rankadaptor.dl4j.prune.WidthPruner;
import org.rankadaptor.dl4j.prune.WidthPruningResult;
import org.rankadaptor.dl4j.prune.WidthPruningSettings;
import org.rankadaptor.dl4j.recover.AlpacaData;
import org.rankadaptor.dl4j.recover.LoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.dl4j.recover.RecoveryListener;
import org.rankadaptor.dl4j.recover.RecoverySettings;
import org.rankadaptor.dl4j.recover.TextWindows;
import org.rankadaptor.dl4j.recover.TrainingData;
import org.rankadaptor.spark.FineTuneSetup;

/**
 * What {@code rankadaptor run} prepares before it searches: the model loaded and pruned, the recovery
 * data cut and split, the rank space, the target's evaluator. A serialisable value, so that a Spark
 * executor rebuilds the same runner and evaluator from it (the files must be readable there); the same
 * value and seed give the same pruned model and data, hence the same fingerprints, wherever it is built.
 *
 * @param model llama2.c checkpoint or Hugging Face model folder
 * @param tokenizer llama2.c tokenizer or tokenizer.json; {@code null}: the model folder's tokenizer.json
 * @param prune how to prune
 * @param ratio width: share of parameters removed; depth: share of blocks removed
 * @param layers 0-based layers pruned, {@code A..B}; {@code null}: all
 * @param importance the pruning criterion's name
 * @param calibrationSamples calibration samples for pruning
 * @param recoveryData Alpaca JSON or plain text
 * @param validation recovery examples held out for validation
 * @param target the target task, {@code KIND:FILE}
 * @param keepLineEndings read text files as written
 * @param recoveryPreset {@code tiny} or {@code paper}
 * @param steps optimiser steps per recovery; 0: the preset's
 * @param evalTokens tokens scored per perplexity task
 * @param evalItems items per zero-shot task
 * @param seed seed of every random choice
 * @param ranks candidate ranks of searched layers
 */
record RunPipeline(String model, String tokenizer, RunCommand.Prune prune, double ratio, String layers,
    String importance, int calibrationSamples, String recoveryData, int validation, String target,
    boolean keepLineEndings, String recoveryPreset, int steps, int evalTokens, int evalItems, long seed,
    List<Integer> ranks) implements FineTuneSetup<RecoveredModel> {

  private static final long serialVersionUID = 1L;

  private static final Pattern RANGE = Pattern.compile("(\\d{1,9})\\.\\.(\\d{1,9})");

  /** An option whose value the pipeline cannot use; the command reports it as a usage error. */
  static final class OptionException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    OptionException(String message) {
      super(message);
    }
  }

  public RunPipeline {
    ranks = List.copyOf(ranks);
  }

  /**
   * What the search runs on.
   *
   * @param pruned the pruned model
   * @param pruningReport the pruning report as JSON, or {@code null} without pruning
   * @param space the rank space
   * @param data the recovery data, whole
   * @param split its training and validation parts
   * @param settings the recovery settings
   * @param tokenizer the tokenizer
   * @param targetEvaluator the target task's evaluator
   */
  record Prepared(LlamaModel pruned, String pruningReport, RankSpace space, TrainingData data,
      TrainingData.Split split, RecoverySettings settings, Tokenizer tokenizer,
      Evaluator<RecoveredModel> targetEvaluator) {

    /** The LoRA runner of the search. */
    LoraRecoveryRunner runner(RecoveryListener... listeners) {
      return SearchPipeline.runner(pruned, split, settings, listeners);
    }

    /** Closes the tokenizer where it holds native memory. */
    void close() {
      if (tokenizer instanceof HfTokenizer hf) {
        hf.close();
      }
    }
  }

  /** The target task. */
  TaskSpec targetTask() {
    return new TaskSpec.Converter().convert(target);
  }

  /** On an executor: the runner and the target's evaluator, built quietly. */
  @Override
  public Built<RecoveredModel> build() {
    try {
      Prepared prepared = prepare(new PrintWriter(Writer.nullWriter()));
      return new Built<>(prepared.runner(), prepared.targetEvaluator());
    } catch (IOException e) {
      throw new UncheckedIOException("the executor could not prepare the run: " + e.getMessage(), e);
    }
  }

  /** On the CUDA backend, the device Spark assigned the task; nothing on the CPU backend. */
  @Override
  public void bindDevice(String address) {
    Nd4j.getAffinityManager().unsafeSetDevice(Integer.parseInt(address));
  }

  /** Loads, prunes and cuts the data, printing each stage to {@code err}. */
  Prepared prepare(PrintWriter err) throws IOException {
    Path modelPath = Path.of(model);
    err.println("loading " + modelPath);
    err.flush();
    LlamaModel original = Files.isDirectory(modelPath)
        ? LlamaCheckpoints.load(modelPath, DataType.FLOAT)
        : LlamaCheckpoints.fromLlama2c(Llama2cCheckpoint.read(modelPath), DataType.FLOAT);
    Tokenizer tok = loadTokenizer(original);
    int n = original.config().nLayers();
    int[] range = layerRange(n);

    RecoverySettings settings = recoveryPreset.equals("paper") ? RecoverySettings.paper() : RecoverySettings.tiny();
    if (steps > 0) {
      settings = settings.withMaxSteps(steps);
    }
    int cutoff = Math.min(settings.cutoffLength(), original.config().maxSeqLen());
    Path dataPath = Path.of(recoveryData);
    TrainingData data = isJson(dataPath)
        ? AlpacaData.load(dataPath, tok, cutoff)
        : TextWindows.of(TextFiles.read(dataPath, lineEndings()), tok, cutoff, cutoff);
    if (data.size() <= validation) {
      String hint = isJson(dataPath)
          ? "; Alpaca records whose prompt alone fills the cutoff of " + cutoff + " tokens leave nothing to learn and "
              + "are dropped: --recovery paper cuts at " + RecoverySettings.paper().cutoffLength() + " tokens"
          : "";
      throw new IllegalArgumentException(dataPath + " gives " + data.size()
          + " examples, not more than the " + validation + " held out for validation (--validation)" + hint);
    }
    TrainingData.Split split = data.split(validation, seed);

    LlamaModel pruned;
    String report = null;
    RankSpace.Builder space;
    int[] candidates = ranks.stream().mapToInt(Integer::intValue).toArray();
    // Not SearchPipeline.widthPrune/depthPrune: run takes its criterion from --importance and calibrates on the
    // recovery data's own tokens, so that it needs no calibration text beside the files it is given.
    switch (prune) {
      case width -> {
        Importance criterion = widthImportance();
        CalibrationSet calibration = criterion.needsGradients() ? calibration(split.train(), 64) : null;
        err.println("width pruning " + ratio + " of the parameters in layers " + range[0] + ".." + range[1]);
        err.flush();
        WidthPruningResult r = WidthPruner.prune(original, calibration,
            new WidthPruningSettings(criterion, GroupReduction.SUM, range[0], range[1], ratio, seed));
        pruned = r.model();
        report = r.report().toJson();
        space = RankSpace.builder(n).candidates(candidates).searchLayers(range[0], range[1]);
      }
      case depth -> {
        int blocks = Math.max(1, (int) Math.round(ratio * n));
        err.println("depth pruning " + blocks + " of " + n + " blocks from layers " + range[0] + ".." + range[1]);
        err.flush();
        DepthPruningResult r = DepthPruner.prune(original, calibration(split.train(), 128),
            new DepthPruningSettings(depthImportance(), blocks, range[0], n - 1 - range[1]));
        pruned = r.model();
        report = r.report().toJson();
        space = RankSpace.builder(pruned.config().nLayers()).candidates(candidates);
      }
      default -> {
        pruned = original;
        space = RankSpace.builder(n).candidates(candidates);
        if (layers != null) {
          space.searchLayers(range[0], range[1]);
        }
      }
    }
    RankSpace rankSpace = space.build();
    // Checked before anything is allocated: a rank above a layer's smallest projection dimension buys nothing.
    for (int l : rankSpace.searchedLayers()) {
      int max = LoraAdapters.maxRank(pruned.config(), l, settings.targets());
      int highest = rankSpace.candidates(l).stream().mapToInt(Integer::intValue).max().orElse(0);
      if (highest > max) {
        throw new IllegalArgumentException("--ranks: rank " + highest + " exceeds layer " + l
            + "'s smallest projection dimension " + max + " after pruning; give ranks up to " + max);
      }
    }
    return new Prepared(pruned, report, rankSpace, data, split, settings, tok, evaluator(targetTask(), tok));
  }

  /** The evaluator of a task, with this run's evaluation settings. */
  Evaluator<RecoveredModel> evaluator(TaskSpec task, Tokenizer tok) throws IOException {
    if (task.zeroShot().isPresent()) {
      return RecoveredEvaluators.zeroShot(task.zeroShot().get(),
          TaskLoaders.llmAdapters(task.file(), task.zeroShot().get()), tok, evalItems, seed);
    }
    String text = isJson(task.file())
        ? RecoveredEvaluators.alpacaText(AlpacaData.read(task.file()))
        : TextFiles.read(task.file(), lineEndings());
    return RecoveredEvaluators.perplexity(task.taskId(), text, tok).window(128).maxTokens(evalTokens).build();
  }

  /** Checks what can be checked without the model: the layer range's form and the criterion's name. */
  void checkOptions() {
    if (layers != null && !RANGE.matcher(layers).matches()) {
      throw new OptionException("--layers must look like A..B (0-based, inclusive), got '" + layers + "'");
    }
    switch (prune) {
      case width -> widthImportance();
      case depth -> depthImportance();
      default -> { }
    }
  }

  private Tokenizer loadTokenizer(LlamaModel original) throws IOException {
    Path file = tokenizer != null ? Path.of(tokenizer) : Path.of(model).resolve("tokenizer.json");
    if (isJson(file) || Files.isDirectory(file)) {
      return HfTokenizer.load(file);
    }
    return Llama2cTokenizer.read(file, original.config().vocabSize());
  }

  private int[] layerRange(int n) {
    if (layers == null) {
      return new int[] {0, n - 1};
    }
    Matcher m = RANGE.matcher(layers);
    if (!m.matches()) {
      throw new OptionException("--layers must look like A..B (0-based, inclusive), got '" + layers + "'");
    }
    int a = Integer.parseInt(m.group(1));
    int b = Integer.parseInt(m.group(2));
    if (a > b || b >= n) {
      throw new OptionException("--layers " + layers + " is not a range within the model's layers 0.." + (n - 1));
    }
    return new int[] {a, b};
  }

  private Importance widthImportance() {
    return switch (importance.toLowerCase(Locale.ROOT)) {
      case "taylor" -> Importance.ELEMENT1;
      case "taylor2" -> Importance.ELEMENT2;
      case "vector" -> Importance.VECTOR;
      case "l2" -> Importance.L2;
      case "random" -> Importance.RANDOM;
      default -> throw new OptionException("--importance for width pruning is taylor, taylor2, vector, l2 or random, "
          + "got '" + importance + "'");
    };
  }

  private BlockImportance depthImportance() {
    return switch (importance.toLowerCase(Locale.ROOT)) {
      case "taylor" -> BlockImportance.TAYLOR;
      case "ppl" -> BlockImportance.PPL;
      default -> throw new OptionException("--importance for depth pruning is taylor or ppl, got '" + importance + "'");
    };
  }

  /** Calibration windows drawn (seeded) from the recovery's training tokens, so no extra file is needed. */
  private CalibrationSet calibration(TrainingData train, int length) {
    int[] all = train.examples().stream().flatMapToInt(e -> Arrays.stream(e.tokens())).toArray();
    if (all.length < length) {
      throw new IllegalArgumentException("the recovery data has " + all.length
          + " tokens, fewer than one calibration sample of " + length);
    }
    SplittableRandom random = new SplittableRandom(seed);
    int[][] samples = new int[calibrationSamples][];
    for (int i = 0; i < samples.length; i++) {
      int start = random.nextInt(all.length - length + 1);
      samples[i] = Arrays.copyOfRange(all, start, start + length);
    }
    return CalibrationSet.of(samples);
  }

  private TextFiles.LineEndings lineEndings() {
    return keepLineEndings ? TextFiles.LineEndings.KEEP : TextFiles.LineEndings.NORMALIZE;
  }

  static boolean isJson(Path file) {
    return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json");
  }
}
