package org.rankadaptor.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.rankadaptor.Evaluator;
import org.rankadaptor.Observation;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankAdaptorException;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.RecoveryFailedException;
import org.rankadaptor.Seeds;
import org.rankadaptor.dl4j.RecoveredEvaluators;
import org.rankadaptor.dl4j.io.TextFiles;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.recover.AlpacaData;
import org.rankadaptor.replay.RecoveryTable;
import org.rankadaptor.dl4j.recover.LoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A table of real recoveries: every rank vector of one pruning setting of a stories test bed (or, for a
 * space too large to enumerate, uniform rank 8 and a sample of vectors within its budget), recovered with
 * several recovery seeds and measured on the validation text (what a search sees) and the
 * test text (held out from every choice). Search strategies are then compared on it offline, by replaying
 * it through {@link org.rankadaptor.replay.RecoveryTable}, with the same recoveries for every strategy.
 *
 * <p>Hours of work on two cores, so it is made to be interrupted: every recovery is appended to the
 * shard's observation store as soon as it is measured, a rerun skips what the store holds, and
 * {@code --shard K/N} splits the configurations between N processes that run side by side (each with
 * its own store). {@code --export} gathers the shards into {@code table.jsonl}.
 */
@Command(
    name = "table",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Recovers every rank vector of one pruning setting of a stories test bed (or uniform rank 8 and a sample",
        "of vectors within its budget) with several recovery seeds and measures validation and test perplexity:",
        "a table of real recoveries to compare search strategies on, and to see whether allocation matters.",
        "Resumable; --shard K/N splits the work between processes; --export writes table.jsonl."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "1:a file or a recovery failed (the message says which)", "2:invalid arguments"})
final class TableCommand implements Callable<Integer> {

  private static final Pattern SHARD = Pattern.compile("(\\d+)/(\\d+)");

  /** Tokens scored on each source task, as in the experiment. */
  private static final int SOURCE_TOKENS = 4096;

  private static final long SOURCE_SALT = 0x53_4F_55_52_43_45L;

  private static final long SAMPLE_SALT = 0x53_41_4D_50_4C_45L;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin SharedOptions.Data dataOption = new SharedOptions.Data();
  @CommandLine.Mixin SharedOptions.Output output = new SharedOptions.Output();

  @CommandLine.Mixin TestBedOptions testBed = new TestBedOptions();

  @CommandLine.Mixin SharedOptions.TestBedSetting pruned = new SharedOptions.TestBedSetting();

  @Option(names = "--seeds", defaultValue = "3",
      description = "Recovery seeds per configuration: SEED, SEED+1, ... (default: ${DEFAULT-VALUE}).")
  int seeds;

  @Option(names = "--generated-stories", defaultValue = CommandDefaults.GENERATED_STORIES,
      description = "Stories sampled from the unpruned model and added to the recovery text (default: ${DEFAULT-VALUE}).")
  int generatedStories;

  @Option(names = "--seed", defaultValue = CommandDefaults.SEED,
      description = "Seed of the data split, the pruning calibration and the first recovery (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--shard", defaultValue = "0/1", paramLabel = "K/N",
      description = "Recover only configurations K, K+N, K+2N, ... of the enumeration (default: ${DEFAULT-VALUE}).")
  String shard;

  @Option(names = "--source-configs", defaultValue = "0",
      description = "Configurations, drawn by the seed, also measured on the source tasks (WikiText-2 and Alpaca "
          + "perplexity) with the first recovery seed, for meta-learning in replays (default: ${DEFAULT-VALUE}).")
  int sourceConfigs;

  @Option(names = "--sample", defaultValue = "0", paramLabel = "N",
      description = "Instead of every rank vector: uniform rank 8 and N distinct rank vectors drawn by the seed within "
          + "uniform rank 8's trainable-parameter budget, for spaces too large to enumerate (default: ${DEFAULT-VALUE}: "
          + "every vector).")
  int sample;

  @Option(names = "--export", description = "Write table.jsonl from every shard's store instead of recovering.")
  boolean export;

  @Override
  public Integer call() {
    PruningSetting pruning = parseSetting();
    int[] shardOf = parseShard();
    if (seeds < 1 || pruned.steps < 1 || generatedStories < 0 || sample < 0) {
      throw usage("--seeds and --steps must be at least 1, --generated-stories and --sample not negative");
    }
    if (testBed.problem() != null) {
      throw usage(testBed.problem());
    }
    if (!Files.isDirectory(dataOption.data)) {
      throw usage("--data: " + dataOption.data + " is not a folder (the shared data: models/, text/)");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      if (export) {
        Path written = export();
        out.printf(Locale.ROOT, "table written to %s%n", written);
        out.flush();
        return 0;
      }
      recover(pruning, shardOf[0], shardOf[1], err);
      return 0;
    } catch (IOException | RankAdaptorException | IllegalArgumentException | IllegalStateException e) {
      err.println("error: " + e.getMessage());
      err.flush();
      return 1;
    }
  }

  private void recover(PruningSetting pruning, int shardIndex, int shardCount, PrintWriter err) throws IOException {
    Files.createDirectories(output.outputDir);
    StoriesTestBed bed = StoriesTestBed.load(testBed, dataOption.data, output.outputDir, pruned.steps, generatedStories, seed, err);
    StoriesTestBed.Pruned pruned = bed.prune(pruning, err);
    List<RankConfig> configs = sample > 0 ? sampled(pruned, bed) : pruned.space().enumerate();
    LoraRecoveryRunner runner = bed.runner(pruned.model(), err);
    List<Evaluator<RecoveredModel>> tasks = List.of(bed.target, bed.test);
    Path storeFile = output.outputDir.resolve(String.format(Locale.ROOT, "shard-%d-of-%d.jsonl", shardIndex, shardCount));
    writeProvenance(bed, pruning, pruned, runner, configs.size());
    try (ObservationStore store = ObservationStore.open(storeFile)) {
      int done = 0;
      int total = 0;
      for (int s = 0; s < seeds; s++) {
        long recoverySeed = seed + s;
        for (int j = shardIndex; j < configs.size(); j += shardCount) {
          total++;
          RankConfig config = configs.get(j);
          if (measured(store, tasks, config, recoverySeed, runner.fingerprint())) {
            done++;
            continue;
          }
          measure(store, runner, tasks, config, recoverySeed);
          done++;
          StoriesTestBed.status(err, String.format(Locale.ROOT, "%d measured of shard %d/%d's %d (seed %d, %s)",
              done, shardIndex, shardCount, (configs.size() + shardCount - 1 - shardIndex) / shardCount * seeds,
              recoverySeed, config.format()));
        }
      }
      if (sourceConfigs > 0) {
        List<Evaluator<RecoveredModel>> sources = List.of(
            RecoveredEvaluators.perplexity("wikitext2", TextFiles.read(dataOption.data.resolve("text/wikitext2/wiki.test.raw")), bed.tokenizer)
                .window(StoriesTestBed.WINDOW).maxTokens(SOURCE_TOKENS).build(),
            RecoveredEvaluators.perplexity("alpaca", RecoveredEvaluators.alpacaText(
                AlpacaData.read(dataOption.data.resolve("text/alpaca/alpaca_data_1k.json"))), bed.tokenizer)
                    .window(StoriesTestBed.WINDOW).maxTokens(SOURCE_TOKENS).build());
        List<RankConfig> drawn = pruned.space().sample(Math.min(sourceConfigs, configs.size()),
            Seeds.mix(seed, SOURCE_SALT), true);
        for (int j = shardIndex; j < drawn.size(); j += shardCount) {
          if (!measured(store, sources, drawn.get(j), seed, runner.fingerprint())) {
            measure(store, runner, sources, drawn.get(j), seed);
            StoriesTestBed.status(err, "source tasks measured for " + drawn.get(j).format());
          }
        }
      }
      StoriesTestBed.status(err, "shard " + shardIndex + "/" + shardCount + " complete: " + total + " recoveries in "
          + storeFile);
    }
  }

  /** Uniform rank 8 first, then {@code --sample} other distinct vectors within its budget, drawn by the seed. */
  private List<RankConfig> sampled(StoriesTestBed.Pruned pruned, StoriesTestBed bed) {
    RankConfig uniform = RankConfig.uniform(pruned.model().config().nLayers(), RankSpace.DEFAULT_PINNED_RANK);
    List<RankConfig> out = new ArrayList<>();
    out.add(uniform);
    for (RankConfig c : pruned.withUniformBudget(bed.recovery).sample(sample + 1, Seeds.mix(seed, SAMPLE_SALT), true)) {
      if (!c.equals(uniform) && out.size() <= sample) {
        out.add(c);
      }
    }
    return out;
  }

  private static boolean measured(ObservationStore store, List<Evaluator<RecoveredModel>> tasks, RankConfig config,
      long recoverySeed, String modelPrint) {
    return tasks.stream().allMatch(task -> !store.select(o -> o.taskId().equals(task.taskId())
        && o.config().equals(config) && o.provenance().seed() == recoverySeed
        && o.provenance().modelFingerprint().equals(modelPrint)).isEmpty());
  }

  /** One recovery measured on every task; a failed recovery is recorded once per task. */
  private static void measure(ObservationStore store, LoraRecoveryRunner runner, List<Evaluator<RecoveredModel>> tasks,
      RankConfig config, long recoverySeed) {
    long start = System.nanoTime();
    RecoveredModel model;
    try {
      model = runner.recover(config, recoverySeed);
    } catch (RecoveryFailedException e) {
      for (Evaluator<RecoveredModel> task : tasks) {
        store.append(Observation.failed(task.taskId(), config, e.getMessage(), (System.nanoTime() - start) / 1e9,
            provenance(runner, task, recoverySeed)));
      }
      return;
    }
    double recoverySeconds = (System.nanoTime() - start) / 1e9;
    try {
      for (Evaluator<RecoveredModel> task : tasks) {
        long evalStart = System.nanoTime();
        var evaluation = task.evaluate(model);
        // The recovery's cost is charged to the first task: the one a search pays for.
        double cost = (System.nanoTime() - evalStart) / 1e9 + (task == tasks.get(0) ? recoverySeconds : 0);
        store.append(Observation.succeeded(task.taskId(), config, evaluation, cost,
            provenance(runner, task, recoverySeed)));
      }
    } finally {
      runner.release(model);
    }
  }

  private static Provenance provenance(LoraRecoveryRunner runner, Evaluator<RecoveredModel> task, long recoverySeed) {
    return new Provenance(recoverySeed, runner.fingerprint(), task.fingerprint(), Map.of("role", "table"));
  }

  private void writeProvenance(StoriesTestBed bed, PruningSetting pruning, StoriesTestBed.Pruned pruned,
      LoraRecoveryRunner runner, int configurations) throws IOException {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("command", "rankadaptor " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
    p.put("setting", pruning.name());
    p.put("model", bed.modelName.name());
    p.put("modelFingerprint", StoriesTestBed.sha256(bed.modelFile));
    p.put("space", pruned.space().describe());
    p.put("searchedLayers", List.of(bed.firstLayer, bed.lastLayer));
    p.put("sample", sample);
    p.put("configurations", configurations);
    p.put("seed", seed);
    p.put("recoverySeeds", seeds);
    p.put("validationTask", bed.target.taskId());
    p.put("testTask", bed.test.taskId());
    p.put("recovery", new TreeMap<>(bed.recovery.describe()));
    p.put("recoveryFingerprint", runner.fingerprint());
    p.put("parametersPerRank", LoraAdapters.parametersPerRank(pruned.model().config(), bed.recovery.targets()));
    p.put("sourceConfigurations", sourceConfigs);
    p.put("parametersBefore", pruned.parametersBefore());
    p.put("parametersAfter", pruned.parametersAfter());
    p.put("pruningReport", JSON.readTree(pruned.reportJson()));
    JSON.writeValue(output.outputDir.resolve("provenance.json").toFile(), p);
  }

  /** Gathers every shard's successful measurements into one row per (configuration, recovery seed). */
  private Path export() throws IOException {
    List<Observation> all = new ArrayList<>();
    try (Stream<Path> files = Files.list(output.outputDir)) {
      for (Path file : files.filter(f -> f.getFileName().toString().matches("shard-\\d+-of-\\d+\\.jsonl")).sorted()
          .toList()) {
        try (ObservationStore store = ObservationStore.open(file)) {
          all.addAll(store.all());
        }
      }
    }
    if (all.isEmpty()) {
      throw new IllegalStateException(output.outputDir + " holds no shard store (shard-K-of-N.jsonl) to export");
    }
    RecoveryTable table = RecoveryTable.fromObservations(all);
    Path file = output.outputDir.resolve("table.jsonl");
    table.write(file);
    return file;
  }

  private PruningSetting parseSetting() {
    return PruningSetting.parse(pruned.setting).orElseThrow(() ->
        usage("--setting: '" + pruned.setting + "' is neither width:SHARE, width-global:SHARE (0 < SHARE < 1) nor depth:BLOCKS"));
  }

  private int[] parseShard() {
    Matcher m = SHARD.matcher(shard.trim());
    Optional<int[]> parsed = m.matches()
        ? Optional.of(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))})
        : Optional.empty();
    if (parsed.isEmpty() || parsed.get()[1] < 1 || parsed.get()[0] >= parsed.get()[1]) {
      throw usage("--shard: '" + shard + "' is not K/N with 0 <= K < N");
    }
    return parsed.get();
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }
}
