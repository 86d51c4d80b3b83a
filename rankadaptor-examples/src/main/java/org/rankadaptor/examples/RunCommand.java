package org.rankadaptor.examples;

import static org.rankadaptor.examples.SearchConsole.metric;
import static org.rankadaptor.examples.SearchConsole.number;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.rankadaptor.EvaluationExecutor;
import org.rankadaptor.Evaluator;
import org.rankadaptor.Finalist;
import org.rankadaptor.IterationRecord;
import org.rankadaptor.Observation;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.PerformanceModel;
import org.rankadaptor.RankAdaptorException;
import org.rankadaptor.RankSpace;
import org.rankadaptor.SearchResult;
import org.rankadaptor.predictor.BayesianRidgeModel;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.PrunedModelSearch;
import org.rankadaptor.dl4j.PrunedSearchResult;
import org.rankadaptor.dl4j.RunFolder;
import org.rankadaptor.dl4j.io.Tokenizer;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.recover.AdaLoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.AdaLoraSettings;
import org.rankadaptor.dl4j.recover.LoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.dl4j.recover.RecoverySettings;
import org.rankadaptor.dl4j.recover.TrainingData;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The real pipeline on a model file: prune, then search per-layer LoRA ranks for the target task with
 * real recoveries, after meta-learning from source tasks; writes the adapters, the result and its
 * provenance to the output folder, and resumes from its store when run again.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Prunes a LLaMA-style model, then searches per-layer LoRA ranks for recovering it on a target task",
        "with real LoRA recoveries, after meta-learning from source tasks. Resumes from its store.",
        "With --method adalora, recovers it with one AdaLoRA fine-tune instead, which learns its own ranks.",
        "Tasks: ppl:FILE (perplexity of a text, or of an Alpaca JSON file's records) or TASK:FILE for",
        "an LLM-Adapters test.json (boolq, piqa, winogrande, arc_easy, arc_challenge, openbookqa)."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "1:a file or the search failed (the message says which)", "2:invalid arguments"})
final class RunCommand implements Callable<Integer> {

  /** No LLaMA projection is wider than this: a larger rank is a typing error. */
  private static final int MAX_RANK = 65_536;

  enum Prune { width, depth, none }

  enum Predictor { mlp, ridge }

  enum Method { rankadaptor, adalora }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;


  @Option(names = "--model", required = true, paramLabel = "PATH",
      description = "llama2.c checkpoint (.bin) or Hugging Face model folder.")
  Path model;

  @Option(names = "--tokenizer", paramLabel = "PATH",
      description = "llama2.c tokenizer (.bin) or tokenizer.json (default: the model folder's tokenizer.json).")
  Path tokenizer;

  @Option(names = "--prune", defaultValue = "width", description = "width, depth or none (default: ${DEFAULT-VALUE}).")
  Prune prune;

  @Option(names = "--ratio", defaultValue = "0.2",
      description = "Width: share of the model's parameters removed; depth: share of blocks removed (default: ${DEFAULT-VALUE}).")
  double ratio;

  @Option(names = "--layers", paramLabel = "A..B",
      description = "0-based layers pruned (width) or that may be removed (depth); their ranks are searched, others pinned at 8 (default: all).")
  String layers;

  @Option(names = "--importance", defaultValue = "taylor",
      description = "Width: taylor, taylor2, vector, l2 or random; depth: taylor or ppl (default: ${DEFAULT-VALUE}).")
  String importance;

  @Option(names = "--calibration-samples", defaultValue = "10", description = "Calibration samples for pruning (default: ${DEFAULT-VALUE}).")
  int calibrationSamples;

  @Option(names = "--recovery-data", required = true, paramLabel = "FILE",
      description = "Alpaca JSON (.json) or plain text used to recover the pruned model.")
  Path recoveryData;

  @Option(names = "--validation", defaultValue = "16", description = "Recovery examples held out for validation (default: ${DEFAULT-VALUE}).")
  int validation;

  @Option(names = "--target", required = true, paramLabel = "KIND:FILE", converter = TaskSpec.Converter.class,
      description = "The task the ranks are searched for.")
  TaskSpec target;

  @Option(names = "--source", paramLabel = "KIND:FILE", converter = TaskSpec.Converter.class,
      description = "A source task for meta-learning (repeatable).")
  List<TaskSpec> sources = new ArrayList<>();

  @Option(names = "--keep-line-endings",
      description = "Read text files as written; by default CRLF and CR become LF, so that a file saved on Windows "
          + "scores as the same text saved elsewhere.")
  boolean keepLineEndings;

  @Option(names = "--method", defaultValue = "rankadaptor",
      description = "rankadaptor (search per-layer LoRA ranks) or adalora (one AdaLoRA fine-tune that learns its ranks, "
          + "written in PEFT's ADALORA format) (default: ${DEFAULT-VALUE}).")
  Method method;

  @Option(names = "--init-r", defaultValue = "12", description = "AdaLoRA: initial rank of every module (default: ${DEFAULT-VALUE}).")
  int initR;

  @Option(names = "--target-r", defaultValue = "8",
      description = "AdaLoRA: average rank per module at the end, the budget (default: ${DEFAULT-VALUE}, uniform rank 8's).")
  int targetR;

  @Option(names = "--tinit", defaultValue = "-1",
      description = "AdaLoRA: warm-up steps before masking (default: 10 %% of the recovery's steps).")
  int tinit;

  @Option(names = "--tfinal", defaultValue = "-1",
      description = "AdaLoRA: steps at the final ranks (default: 30 %% of the recovery's steps).")
  int tfinal;

  @Option(names = "--delta-t", defaultValue = "1", description = "AdaLoRA: steps between maskings (default: ${DEFAULT-VALUE}).")
  int deltaT;

  @Option(names = "--ranks", split = ",", defaultValue = "2,4,6,8,10,12", description = "Candidate ranks of searched layers (default: ${DEFAULT-VALUE}).")
  int[] ranks;

  @Option(names = "--predictor", defaultValue = "mlp", description = "mlp or ridge (default: ${DEFAULT-VALUE}).")
  Predictor predictor;

  @Option(names = "--protocol", defaultValue = "default",
      description = "default (anchor at uniform rank 8, replicates, the noise-aware stopping rule and a confirmation "
          + "stage with a verdict) or paper (the paper's convergence rule, threshold 0.01, and its best single "
          + "measurement) (default: ${DEFAULT-VALUE}).")
  String protocol;

  @Option(names = "--recovery", defaultValue = "tiny", description = "Recovery preset: tiny or paper (default: ${DEFAULT-VALUE}).")
  String recoveryPreset;

  @Option(names = "--eval-tokens", defaultValue = "4096", description = "Tokens scored per perplexity task (default: ${DEFAULT-VALUE}).")
  int evalTokens;

  @Option(names = "--eval-items", defaultValue = "200", description = "Items per zero-shot task, drawn by the seed (default: ${DEFAULT-VALUE}).")
  int evalItems;

  // Shared with demo and experiment; their defaults are CommandDefaults.RUN.
  @CommandLine.Mixin SharedOptions.Search searchOptions = new SharedOptions.Search(CommandDefaults.RUN);
  @CommandLine.Mixin SharedOptions.Seed seedOption = new SharedOptions.Seed();
  @CommandLine.Mixin SharedOptions.Output output = new SharedOptions.Output();

  @Option(names = "--store", paramLabel = "FILE", description = "Observation store (default: OUT/observations.jsonl).")
  Path store;

  @Option(names = "--merge", description = "Also save the pruned model with the best adapters merged in.")
  boolean merge;

  @Option(names = "--parallel", defaultValue = "1", paramLabel = "Q",
      description = {"Fine-tunes chosen together and run at once on threads of this process (default: ${DEFAULT-VALUE}).",
          "Without -D" + Nd4jRuntime.THREADS_PROPERTY + ", each gets the cores divided by Q."})
  int parallel;

  @Option(names = "--spark-master", paramLabel = "URL",
      description = {"Run the search's fine-tunes as Spark tasks on this master (local[2], spark://host:7077, yarn, ...);",
          "each executor rebuilds the pruned model from the same files, so they must be readable there.",
          "Needs Spark on the classpath (spark-submit, or -Pspark with exec:java)."})
  String sparkMaster;

  @Override
  public Integer call() {
    validateArguments();
    PrintWriter err = spec.commandLine().getErr();
    try {
      return execute();
    } catch (RunPipeline.OptionException e) {
      throw usage(e.getMessage());
    } catch (IOException | RankAdaptorException | IllegalArgumentException | IllegalStateException e) {
      err.println("error: " + e.getMessage());
      err.flush();
      return 1;
    }
  }

  private void validateArguments() {
    if (!protocol.equals("default") && !protocol.equals("paper")) {
      throw usage("--protocol must be default or paper, got '" + protocol + "'");
    }
    if (!(ratio > 0 && ratio < 1) && prune != Prune.none) {
      throw usage("--ratio must be in (0, 1), got " + ratio);
    }
    try {
      pipeline().checkOptions();
    } catch (RunPipeline.OptionException e) {
      throw usage(e.getMessage());
    }
    for (String[] positive : new String[][] {
        {"--evaluations", Integer.toString(searchOptions.evaluations)},
        {"--source-configs", Integer.toString(searchOptions.sourceConfigs)},
        {"--calibration-samples", Integer.toString(calibrationSamples)}, {"--validation", Integer.toString(validation)},
        {"--eval-items", Integer.toString(evalItems)},
        {"--meta-iterations", Integer.toString(searchOptions.metaIterations)}}) {
      if (Integer.parseInt(positive[1]) < 1) {
        throw usage(positive[0] + " must be at least 1, got " + positive[1]);
      }
    }
    if (parallel < 1) {
      throw usage("--parallel must be at least 1, got " + parallel);
    }
    if ((parallel > 1 || sparkMaster != null) && method == Method.adalora) {
      throw usage("--parallel and --spark-master run a search's fine-tunes at once; --method adalora runs one recovery");
    }
    if (searchOptions.steps < 0) {
      throw usage("--steps must not be negative, got " + searchOptions.steps);
    }
    if (evalTokens < 2) {
      throw usage("--eval-tokens must be at least 2, got " + evalTokens);
    }
    for (int r : ranks) {
      if (r < 0 || r > MAX_RANK) {
        throw usage("--ranks must lie in 0.." + MAX_RANK + ", got " + r);
      }
    }
    if (initR < 1 || targetR < 1 || targetR > initR) {
      throw usage("--target-r must lie in 1..--init-r (" + initR + "), got " + targetR);
    }
    if (deltaT < 1 || tinit < -1 || tfinal < -1) {
      throw usage("--delta-t must be at least 1 and --tinit, --tfinal not negative");
    }
    if (!recoveryPreset.equals("tiny") && !recoveryPreset.equals("paper")) {
      throw usage("--recovery must be tiny or paper, got '" + recoveryPreset + "'");
    }
    for (TaskSpec s : sources) {
      if (s.taskId().equals(target.taskId())) {
        throw usage("--source " + s + " is the target task");
      }
    }
    requireFile(model, "--model");
    requireRegularFile(recoveryData, "--recovery-data");
    requireRegularFile(target.file(), "--target");
    for (TaskSpec s : sources) {
      requireRegularFile(s.file(), "--source");
    }
    if (tokenizer == null && !Files.isDirectory(model)) {
      throw usage("--tokenizer is required for a llama2.c checkpoint (" + model + ")");
    }
    if (tokenizer != null) {
      requireRegularFile(tokenizer, "--tokenizer");
    }
  }

  private void requireFile(Path path, String option) {
    if (!Files.exists(path)) {
      throw usage(option + ": " + path + " does not exist");
    }
  }

  private void requireRegularFile(Path path, String option) {
    requireFile(path, option);
    if (Files.isDirectory(path)) {
      throw usage(option + ": " + path + " is a folder; give a file");
    }
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  private int execute() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (parallel > 1 && System.getProperty(Nd4jRuntime.THREADS_PROPERTY) == null) {
      // Before ND4J starts: Q recoveries sharing the cores, not each taking all of them.
      int cores = Runtime.getRuntime().availableProcessors();
      System.setProperty(Nd4jRuntime.THREADS_PROPERTY, Integer.toString(Math.max(1, cores / parallel)));
    }
    RunPipeline pipeline = pipeline();
    RunPipeline.Prepared prepared = pipeline.prepare(err);
    try {
      return search(pipeline, prepared, out, err);
    } finally {
      prepared.close();
    }
  }

  /** The options that decide the model, data and evaluation, as a value a Spark executor can rebuild. */
  RunPipeline pipeline() {
    return new RunPipeline(model.toAbsolutePath().toString(), tokenizer == null ? null : tokenizer.toAbsolutePath()
        .toString(), prune, ratio, layers, importance, calibrationSamples, recoveryData.toAbsolutePath().toString(),
        validation, target.zeroShot().map(t -> t.id()).orElse(TaskSpec.PERPLEXITY) + ":"
            + target.file().toAbsolutePath(), keepLineEndings, recoveryPreset, searchOptions.steps, evalTokens, evalItems,
        seedOption.seed,
        Arrays.stream(ranks).boxed().toList());
  }

  private int search(RunPipeline pipeline, RunPipeline.Prepared prepared, PrintWriter out, PrintWriter err)
      throws IOException {
    LlamaModel pruned = prepared.pruned();
    RankSpace rankSpace = prepared.space();
    RecoverySettings settings = prepared.settings();
    TrainingData data = prepared.data();
    TrainingData.Split split = prepared.split();
    String report = prepared.pruningReport();
    Tokenizer tok = prepared.tokenizer();
    Evaluator<RecoveredModel> targetEvaluator = prepared.targetEvaluator();
    Path storeFile = store != null ? store : output.outputDir.resolve("observations.jsonl");
    if (method == Method.adalora) {
      try (ObservationStore observations = ObservationStore.open(storeFile)) {
        AdaLoraRun.run(pruned, adaLoraRunner(pruned, split, settings, err), targetEvaluator, observations,
            seedOption.seed,
            output.outputDir, merge, Map.of("model", model.toAbsolutePath().toString(), "prune", prune.name(),
                "target", target.toString(), "recoveryDataFingerprint", data.fingerprint()), out, err);
      }
      return 0;
    }
    LoraRecoveryRunner runner = prepared.runner(new SearchConsole.Progress(err));
    PerformanceModel performance = predictor == Predictor.ridge
        ? new BayesianRidgeModel(rankSpace)
        : SearchPipeline.metaLearnedMlp(rankSpace, seedOption.seed, searchOptions.metaIterations);
    try (ObservationStore observations = ObservationStore.open(storeFile);
        EvaluationExecutor executor = executor(pipeline)) {
      PrunedModelSearch.Builder search = SearchPipeline.search(pruned, runner, targetEvaluator, rankSpace,
              searchOptions, seedOption.seed, performance, observations, err)
          .searchOptions(o -> (protocol.equals("paper") ? o.paperProtocol() : o).batchSize(parallel).executor(executor))
          .outputFolder(output.outputDir)
          .saveMergedModel(merge)
          .setting("model", model.toAbsolutePath().toString())
          .setting("recoveryData", recoveryData.toAbsolutePath().toString())
          .setting("recoveryDataFingerprint", data.fingerprint())
          .setting("prune", prune.name())
          .setting("predictor", predictor.name())
          .setting("protocol", protocol)
          .setting("parallel", Integer.toString(parallel))
          .setting("target", target.toString());
      if (report != null) {
        search.pruningReport(report);
      }
      if (sparkMaster != null) {
        search.setting("sparkMaster", sparkMaster);
      }
      for (TaskSpec s : sources) {
        search.source(pipeline.evaluator(s, tok));
      }
      PrunedSearchResult result = search.build().run();
      printTable(out, rankSpace, result);
    }
    return 0;
  }

  /** Threads, Spark or one at a time. */
  private EvaluationExecutor executor(RunPipeline pipeline) {
    if (sparkMaster != null) {
      return SparkRun.executor(sparkMaster, pipeline, parallel);
    }
    return parallel > 1 ? EvaluationExecutor.threads(parallel) : EvaluationExecutor.sequential();
  }

  /** An AdaLoRA runner with the options' settings; unset schedule steps take the defaults' shares. */
  private AdaLoraRecoveryRunner adaLoraRunner(LlamaModel pruned, TrainingData.Split split, RecoverySettings settings,
      PrintWriter err) {
    AdaLoraRecoveryRunner.Builder builder = AdaLoraRecoveryRunner.builder(pruned, split.train(), split.validation())
        .settings(settings)
        .listener(new SearchConsole.Progress(err));
    AdaLoraSettings defaults = builder.build().adaLoraSettings();
    return builder.adaLora(defaults.withRanks(initR, targetR).withSchedule(
        tinit >= 0 ? tinit : defaults.tinit(), tfinal >= 0 ? tfinal : defaults.tfinal(), deltaT)).build();
  }

  private void printTable(PrintWriter out, RankSpace space, PrunedSearchResult result) {
    SearchResult search = result.search();
    out.printf(Locale.ROOT, "%nRankAdaptor run on %s: %s; %d source observations, %d recoveries in this run%n",
        target.taskId(), space.describe(), result.sourceObservations(), result.recoveries());
    out.printf(Locale.ROOT, "stopped: %s%n", search.stopExplanation());
    if (search.failures() > 0) {
      out.printf(Locale.ROOT, "failed fine-tunes: %d of %d (each in the store with its reason)%n", search.failures(),
          search.fineTunes());
    }
    out.printf(Locale.ROOT, "%3s  %-13s %-28s %6s %10s %10s %12s  %s%n", "#", "phase", "ranks", "seed", "predicted",
        "measured", "metric", "");
    for (IterationRecord r : search.trace()) {
      out.printf(Locale.ROOT, "%3d  %-13s %-28s %6d %10s %10s %12s  %s%n", r.index(),
          r.phase().name().toLowerCase(Locale.ROOT), r.config().format(), r.seed(), number(r.predicted()),
          number(r.observation().score()), metric(r.observation()), r.reused() ? "from store" : "");
    }
    search.noiseStd().ifPresent(n -> out.printf(Locale.ROOT, "%nnoise between recovery seeds (one fine-tune's "
        + "standard deviation, paired): %s%n", number(n)));
    search.confirmation().ifPresent(c -> {
      out.printf(Locale.ROOT, "%n%-28s %10s %10s %12s%n", "finalist", "mean", "std error", "LoRA cost");
      for (Finalist f : c.finalists()) {
        out.printf(Locale.ROOT, "%-28s %10s %10s %,12d%n", f.config().format(), number(f.mean()),
            number(f.standardError()), f.cost());
      }
      out.printf(Locale.ROOT, "verdict: %s%n", c.reason());
    });
    out.printf(Locale.ROOT, "%n%-14s %-28s %10s %12s%n", "", "ranks", "measured", "metric");
    out.printf(Locale.ROOT, "%-14s %-28s %10s %12s%n", "best", result.best().format(),
        number(search.bestObservation().score()), metric(search.bestObservation()));
    for (Map.Entry<String, Observation> e : result.baselines().entrySet()) {
      String name = switch (e.getKey()) {
        case "uniform" -> "uniform rank 8";
        case "none" -> "no recovery";
        case "lora*" -> "LoRA*";
        case PrunedModelSearch.ADALORA -> "AdaLoRA";
        default -> e.getKey();
      };
      out.printf(Locale.ROOT, "%-14s %-28s %10s %12s%n", name, e.getValue().config().format(),
          number(e.getValue().score()), metric(e.getValue()));
    }
    out.printf(Locale.ROOT, "%nwritten to %s (%s, %s%s)%n", output.outputDir,
        RunFolder.RESULT_FILE, RunFolder.PROVENANCE_FILE,
        result.adapters().isPresent() ? ", " + RunFolder.ADAPTERS_FOLDER + "/" : "");
    out.flush();
  }
}
