package org.rankadaptor.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.rankadaptor.EvaluationExecutor;
import org.rankadaptor.Evaluator;
import org.rankadaptor.IterationRecord;
import org.rankadaptor.Observation;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.RecoveryRunner;
import org.rankadaptor.SearchPhase;
import org.rankadaptor.SearchResult;
import org.rankadaptor.dl4j.eval.TaskLoaders;
import org.rankadaptor.dl4j.eval.ZeroShotTask;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.io.Llama2cTokenizer;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapter;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.llama.PeftAdapters;
import org.rankadaptor.dl4j.predictor.MlpConfig;
import org.rankadaptor.dl4j.predictor.MlpPerformanceModel;
import org.rankadaptor.dl4j.prune.CalibrationSet;
import org.rankadaptor.dl4j.prune.WidthPruner;
import org.rankadaptor.dl4j.prune.WidthPruningResult;
import org.rankadaptor.dl4j.prune.WidthPruningSettings;
import org.rankadaptor.dl4j.recover.AlpacaData;
import org.rankadaptor.dl4j.recover.LoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.dl4j.recover.RecoveryBaselines;
import org.rankadaptor.dl4j.recover.RecoverySettings;
import org.rankadaptor.dl4j.recover.TextWindows;
import org.rankadaptor.dl4j.recover.TrainingData;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.testing.SharedFiles;

/**
 * The whole pipeline on stories260K: width-pruned by 20 % in layers 1..3, recovered with a few LoRA
 * steps on TinyStories windows, searched for held-out TinyStories perplexity after meta-learning from
 * WikiText-2 and Alpaca perplexity. Budgets are tiny: the point is the wiring, not the ranks found.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PrunedModelSearchTest {

  private static final long SEED = 11;
  private static final int EVALUATIONS = 3;
  private static final int SOURCE_CONFIGS = 2;
  private static final RecoverySettings RECOVERY = RecoverySettings.tiny().withMaxSteps(4).withEvalInterval(2);

  @TempDir static Path dir;

  private static LlamaModel pruned;
  private static String pruningReport;
  private static LoraRecoveryRunner recoveryRunner;
  private static Evaluator<RecoveredModel> target;
  private static Evaluator<RecoveredModel> wikitext;
  private static Evaluator<RecoveredModel> alpaca;
  private static Llama2cTokenizer tokenizer;
  private static RankSpace space;
  private static PrunedSearchResult first;

  @BeforeAll
  static void prepare() throws IOException {
    Nd4jRuntime.ensureInitialized();
    LlamaModel model = LlamaCheckpoints.fromLlama2c(
        Llama2cCheckpoint.read(SharedFiles.require("data/models/stories260K/stories260K.bin")), DataType.FLOAT);
    tokenizer = Llama2cTokenizer.read(SharedFiles.require("data/models/stories260K/tok512.bin"));
    String stories = Files.readString(SharedFiles.require("data/text/tinystories/TinyStories-valid-excerpt.txt"));
    String recoveryText = stories.substring(0, stories.length() * 2 / 3);
    String heldOut = stories.substring(stories.length() * 2 / 3);
    WidthPruningResult cut = WidthPruner.prune(model,
        CalibrationSet.builder(recoveryText, tokenizer)
            .samples(4).length(64).seed(SEED).build(), WidthPruningSettings.llmPruner(1, 3, 0.2));
    pruned = cut.model();
    pruningReport = cut.report().toJson();
    TrainingData.Split split = TextWindows.of(recoveryText, tokenizer, 64, 64).split(8, SEED);
    recoveryRunner = LoraRecoveryRunner.builder(pruned, split.train(), split.validation()).settings(RECOVERY).build();
    target = RecoveredEvaluators.perplexity("tinystories", heldOut, tokenizer).window(128).maxTokens(512).build();
    String wiki = Files.readString(SharedFiles.require("data/text/wikitext2/wiki.test.raw"));
    wikitext = RecoveredEvaluators.perplexity("wikitext2", wiki, tokenizer).window(128).maxTokens(256).build();
    List<AlpacaData.Record> records = AlpacaData.read(SharedFiles.require("data/text/alpaca/alpaca_data_1k.json"));
    alpaca = RecoveredEvaluators.perplexity("alpaca", RecoveredEvaluators.alpacaText(records.subList(0, 20)), tokenizer)
        .window(128).maxTokens(256).build();
    space = RankSpace.builder(pruned.config().nLayers()).candidates(2, 4, 8).searchLayers(1, 3).build();
  }

  /** A small MLP so that meta-learning and updates stay quick. */
  private static MlpPerformanceModel predictor() {
    return new MlpPerformanceModel(space,
        MlpConfig.paper().withEnsembleSize(2).withMeta(40, 4, 0.5).withEpochs(40).withSeed(SEED));
  }

  /** The search every test runs: sources, budget, predictor and no convergence stop. */
  private static PrunedModelSearch.Builder searchSettings(RecoveryRunner<RecoveredModel> runner, ObservationStore store) {
    return PrunedModelSearch.builder(pruned, runner, target)
        .space(space)
        .source(wikitext)
        .source(alpaca)
        .sourceConfigurations(SOURCE_CONFIGS)
        .store(store)
        .seed(SEED)
        .maxEvaluations(EVALUATIONS)
        .performanceModel(predictor())
        .searchOptions(s -> s.convergence(0, 1));
  }

  private static PrunedModelSearch search(RecoveryRunner<RecoveredModel> runner, ObservationStore store, Path out) {
    return searchSettings(runner, store)
        .outputFolder(out)
        .pruningReport(pruningReport)
        .setting("recovery", RECOVERY.describe().toString())
        .build();
  }

  @Test
  @Order(1)
  void searchesStoresAndWritesAdapters() throws IOException {
    Path storeFile = dir.resolve("store.jsonl");
    try (ObservationStore store = ObservationStore.open(storeFile)) {
      first = search(recoveryRunner, store, dir.resolve("out")).run();
      assertThat(space.contains(first.best())).isTrue();
      assertThat(first.search().trace()).hasSize(EVALUATIONS);
      // Every target evaluation is in the store, and each source has one observation per source config.
      List<Observation> targetObs = store.forTask("tinystories");
      for (IterationRecord r : first.search().trace()) {
        assertThat(targetObs).anySatisfy(o -> assertThat(o.config()).isEqualTo(r.config()));
      }
      assertThat(store.forTask("wikitext2")).hasSize(SOURCE_CONFIGS);
      assertThat(store.forTask("alpaca")).hasSize(SOURCE_CONFIGS);
      assertThat(first.sourceObservations()).isEqualTo(2 * SOURCE_CONFIGS);
      // One recovery per source config serves both sources; the search's and the baselines' at most one
      // each; the best is kept or recovered once more.
      assertThat(first.recoveries()).isBetween(SOURCE_CONFIGS + EVALUATIONS, SOURCE_CONFIGS + EVALUATIONS + 3);
      assertThat(first.baselines()).containsOnlyKeys("uniform", "none");
      assertThat(first.baselines().get("uniform").config()).isEqualTo(RankConfig.uniform(5, 8));
      assertThat(first.search().bestScore())
          .isGreaterThanOrEqualTo(first.baselines().get("none").score() - 0.05);
    }
    // The adapters on disk are the best configuration's, value for value.
    Path adapters = first.adapters().orElseThrow();
    assertThat(adapters.resolve("adapter_config.json")).isRegularFile();
    assertThat(adapters.resolve("adapter_model.safetensors")).isRegularFile();
    LoraAdapters read = PeftAdapters.read(adapters, pruned.config(), DataType.FLOAT);
    LoraAdapters kept = first.recovered().adapters();
    for (int l = 0; l < pruned.config().nLayers(); l++) {
      assertThat(read.layer(l).keySet()).isEqualTo(kept.layer(l).keySet());
      for (Map.Entry<LoraTarget, LoraAdapter> e : kept.layer(l).entrySet()) {
        LoraAdapter got = read.get(l, e.getKey());
        assertThat(got.rank()).isEqualTo(first.best().rank(l));
        assertThat(got.a().equalsWithEps(e.getValue().a(), 1e-6)).isTrue();
        assertThat(got.b().equalsWithEps(e.getValue().b(), 1e-6)).isTrue();
      }
    }
    JsonNode provenance = new ObjectMapper().readTree(first.provenanceFile().orElseThrow().toFile());
    assertThat(provenance.path("pruning").path("method").asText()).isEqualTo("llm-pruner-width");
    assertThat(provenance.path("environment").path("runtime").path("blasVendor").isMissingNode()).isFalse();
    assertThat(provenance.path("sources").has("wikitext2")).isTrue();
    // Each component's own record: the recovery's settings by name, the predictor's Reptile schedule.
    assertThat(provenance.path("recovery").path("settings").path("maxSteps").asInt()).isEqualTo(4);
    assertThat(provenance.path("recovery").path("runner").asText()).isEqualTo("LoraRecoveryRunner");
    assertThat(provenance.path("performanceModel").path("config").path("metaIterations").asInt()).isEqualTo(40);
    assertThat(provenance.has("recoveryFingerprint")).isFalse();
    RunProvenance readBack = RunFolder.at(dir.resolve("out")).readProvenance();
    assertThat(readBack.recovery()).isEqualTo(recoveryRunner.provenance());
    assertThat(readBack.search().modelFingerprint()).isEqualTo(recoveryRunner.fingerprint());
    // Read back and written again, the same JSON: nothing of the file is lost or reordered.
    assertThat(new ObjectMapper().writeValueAsString(readBack)).isEqualTo(provenance.toString());
    JsonNode result = new ObjectMapper().readTree(first.resultFile().orElseThrow().toFile());
    assertThat(result.path("best").asText()).isEqualTo(first.best().format());
    assertThat(result.path("trace")).hasSize(first.search().fineTunes());
    assertThat(result.path("stopExplanation").asText()).isEqualTo(first.search().stopExplanation());
    // Every fine-tune names its recovery seed; the confirmation's finalists and reason are there when it ran.
    for (JsonNode r : result.path("trace")) {
      assertThat(r.path("recoverySeed").isIntegralNumber()).isTrue();
    }
    first.search().confirmation().ifPresent(c -> {
      assertThat(result.path("confirmation").path("reason").asText()).isEqualTo(c.reason());
      assertThat(result.path("confirmation").path("finalists")).hasSize(c.finalists().size());
    });
  }

  @Test
  @Order(10)
  void fineTunesRunAtOnceOnThreadsGiveTheScoresTheyGiveOneAtATime() throws IOException {
    List<SearchResult> results = new ArrayList<>();
    for (boolean threads : new boolean[] {false, true}) {
      try (ObservationStore store = ObservationStore.inMemory();
          EvaluationExecutor executor = threads ? EvaluationExecutor.threads(2) : EvaluationExecutor.sequential()) {
        results.add(searchSettings(recoveryRunner, store).maxEvaluations(5)
            .searchOptions(s -> s.convergence(0, 1).confirmation(0, 0).batchSize(2).executor(executor))
            .build().run().search());
      }
    }
    List<String> oneAtATime = results.get(0).trace().stream()
        .map(r -> r.batch() + ":" + r.config().format() + "/" + r.seed() + "=" + r.observation().score()).toList();
    List<String> threaded = results.get(1).trace().stream()
        .map(r -> r.batch() + ":" + r.config().format() + "/" + r.seed() + "=" + r.observation().score()).toList();
    assertThat(threaded).isEqualTo(oneAtATime);
    assertThat(results.get(1).trace().stream().filter(r -> r.phase() == SearchPhase.ITERATION)
        .map(IterationRecord::batch).distinct().count())
        .as("iterations that chose two configurations at once")
        .isLessThan(results.get(1).trace().stream().filter(r -> r.phase() == SearchPhase.ITERATION).count());
  }

  @Test
  @Order(2)
  void aRerunOverTheSameStoreRecoversNothing() throws IOException {
    Path storeFile = dir.resolve("store.jsonl");
    long lines = Files.lines(storeFile).count();
    try (ObservationStore store = ObservationStore.open(storeFile)) {
      PrunedSearchResult again = search(recoveryRunner, store, dir.resolve("out")).run();
      assertThat(again.recoveries()).isZero();
      assertThat(again.search().newEvaluations()).isZero();
      assertThat(again.best()).isEqualTo(first.best());
      assertThat(again.search().bestScore()).isEqualTo(first.search().bestScore());
      assertThat(again.search().trace()).extracting(IterationRecord::config)
          .isEqualTo(first.search().trace().stream().map(IterationRecord::config).toList());
      assertThat(store.size()).isEqualTo(lines);
    }
  }

  @Test
  @Order(2)
  void aDamagedOutputIsRecomputedNotFatal() throws IOException {
    // As a kill while writing left it before outputs were written atomically: half a config file.
    Path out = dir.resolve("out");
    Path config = out.resolve("adapters/adapter_config.json");
    String whole = Files.readString(config);
    Files.writeString(config, whole.substring(0, whole.length() / 2));
    try (ObservationStore store = ObservationStore.open(dir.resolve("store.jsonl"))) {
      PrunedSearchResult again = search(recoveryRunner, store, out).run();
      assertThat(again.best()).isEqualTo(first.best());
      // Only the best configuration is recovered again, for its adapters.
      assertThat(again.recoveries()).isEqualTo(1);
    }
    assertThat(Files.readString(config)).isEqualTo(whole);
    try (var files = Files.list(out.resolve("adapters"))) {
      assertThat(files.map(f -> f.getFileName().toString()).toList())
          .containsExactlyInAnyOrder("adapter_config.json", "adapter_model.safetensors");
    }
  }

  @Test
  @Order(3)
  void aKilledRunResumesFromItsStoreToTheSameResult() throws IOException {
    Path storeFile = dir.resolve("killed.jsonl");
    AtomicInteger calls = new AtomicInteger();
    // Dies in the middle of the search's second recovery (after the source configurations' recoveries).
    int dieAt = SOURCE_CONFIGS + 2;
    RecoveryRunner<RecoveredModel> dying = new RecoveryRunner<>() {
      @Override
      public RecoveredModel recover(RankConfig config, long seed) {
        if (calls.incrementAndGet() == dieAt) {
          throw new IllegalStateException("killed");
        }
        return recoveryRunner.recover(config, seed);
      }

      @Override
      public String fingerprint() {
        return recoveryRunner.fingerprint();
      }
    };
    try (ObservationStore store = ObservationStore.open(storeFile)) {
      assertThatThrownBy(() -> search(dying, store, dir.resolve("killed-out")).run()).hasMessage("killed");
      assertThat(store.size()).isEqualTo(2 * SOURCE_CONFIGS + 1);
    }
    try (ObservationStore store = ObservationStore.open(storeFile)) {
      PrunedSearchResult resumed = search(recoveryRunner, store, dir.resolve("killed-out")).run();
      assertThat(resumed.best()).isEqualTo(first.best());
      assertThat(resumed.search().trace()).extracting(IterationRecord::config)
          .isEqualTo(first.search().trace().stream().map(IterationRecord::config).toList());
      assertThat(resumed.search().newEvaluations()).isEqualTo(EVALUATIONS - 1);
      assertThat(resumed.search().bestScore()).isEqualTo(first.search().bestScore());
    }
  }

  @Test
  @Order(4)
  void comparesWithRandomSearchAndBaselinesOnHeldOutTasksWithSeveralSeeds() throws IOException {
    // The first test's store already holds the sources and the search: only the comparisons are new.
    Path storeFile = Files.copy(dir.resolve("store.jsonl"), dir.resolve("compare.jsonl"));
    Evaluator<RecoveredModel> piqa = RecoveredEvaluators.zeroShot(ZeroShotTask.PIQA,
        TaskLoaders.llmAdapters(SharedFiles.require("data/tasks/llm_adapters_format/piqa/test.json"),
            ZeroShotTask.PIQA), tokenizer, 8, SEED);
    Evaluator<RecoveredModel> wikiHeldOut = RecoveredEvaluators.perplexity("wikitext2-test", Files.readString(SharedFiles.require("data/text/wikitext2/wiki.test.raw")).substring(200_000), tokenizer)
        .window(128).maxTokens(256).build();
    long[] seeds = {SEED, SEED + 1};
    PrunedSearchResult compared;
    try (ObservationStore store = ObservationStore.open(storeFile)) {
      compared = comparison(store, piqa, wikiHeldOut, seeds).run();
    }
    assertThat(compared.best()).isEqualTo(first.best());
    SearchResult random = compared.randomSearch().orElseThrow();
    assertThat(random.trace()).hasSize(EVALUATIONS);
    assertThat(random.trace()).extracting(IterationRecord::config).doesNotHaveDuplicates()
        .allSatisfy(c -> assertThat(space.contains(c)).isTrue());
    assertThat(compared.baselines().keySet()).containsExactly("uniform", "lora*", "none");
    assertThat(compared.baselines().get("lora*").config()).isEqualTo(RecoveryBaselines.loraStar(space));

    // Every method on every held-out task with each of its seeds (piqa: the first only), once.
    List<String> methods = List.of("rankadaptor", "random", "uniform", "lora*", "none");
    assertThat(compared.heldOut()).hasSize(methods.size() * (seeds.length + 1));
    for (String method : methods) {
      assertThat(compared.heldOut()).filteredOn(m -> m.method().equals(method) && m.recoverySeed() == SEED)
          .extracting(m -> m.observation().taskId()).containsExactlyInAnyOrder("piqa", "wikitext2-test");
      assertThat(compared.heldOut()).filteredOn(m -> m.method().equals(method) && m.recoverySeed() == SEED + 1)
          .extracting(m -> m.observation().taskId()).containsExactly("wikitext2-test");
    }
    // No recovery does not depend on the seed; a recovery does.
    assertThat(heldOutScore(compared, "none", SEED, "wikitext2-test"))
        .isEqualTo(heldOutScore(compared, "none", SEED + 1, "wikitext2-test"));
    assertThat(heldOutScore(compared, "uniform", SEED, "wikitext2-test"))
        .isNotEqualTo(heldOutScore(compared, "uniform", SEED + 1, "wikitext2-test"));
    JsonNode result = new ObjectMapper().readTree(compared.resultFile().orElseThrow().toFile());
    assertThat(result.path("randomSearch").path("trace")).hasSize(EVALUATIONS);
    assertThat(result.path("heldOut")).hasSize(compared.heldOut().size());

    // Everything is in the store: a rerun recovers nothing and measures the same.
    try (ObservationStore store = ObservationStore.open(storeFile)) {
      PrunedSearchResult again = comparison(store, piqa, wikiHeldOut, seeds).run();
      assertThat(again.recoveries()).isZero();
      assertThat(again.heldOut()).extracting(m -> m.observation().score())
          .isEqualTo(compared.heldOut().stream().map(m -> m.observation().score()).toList());
    }
  }

  private static PrunedModelSearch comparison(ObservationStore store, Evaluator<RecoveredModel> piqa,
      Evaluator<RecoveredModel> wikiHeldOut, long[] seeds) {
    return searchSettings(recoveryRunner, store)
        .baselines("uniform", "LoRA*", "none")
        .randomSearch(true)
        .heldOut(piqa, SEED)
        .heldOut(wikiHeldOut)
        .heldOutSeeds(seeds)
        .outputFolder(dir.resolve("compare-out"))
        .build();
  }

  private static double heldOutScore(PrunedSearchResult result, String method, long seed, String task) {
    return result.heldOut().stream()
        .filter(m -> m.method().equals(method) && m.recoverySeed() == seed && m.observation().taskId().equals(task))
        .findFirst().orElseThrow().observation().score();
  }

  @Test
  void comparisonSettingsAreChecked() {
    PrunedModelSearch.Builder b = PrunedModelSearch.builder(pruned, recoveryRunner, target);
    assertThatThrownBy(() -> b.baselines("uniform", "best-guess"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("best-guess").hasMessageContaining("lora*");
    assertThatThrownBy(() -> b.baselines("none", "NONE"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("twice");
    assertThatThrownBy(() -> b.heldOut(target))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target");
    assertThatThrownBy(() -> b.heldOutSeeds(3, 3))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("repeat");
  }

  @Test
  void aSourceCannotBeTheTarget() {
    assertThatThrownBy(() -> PrunedModelSearch.builder(pruned, recoveryRunner, target).source(target))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tinystories");
    assertThatThrownBy(() -> PrunedModelSearch.builder(pruned, recoveryRunner, target).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("seed");
  }
}
