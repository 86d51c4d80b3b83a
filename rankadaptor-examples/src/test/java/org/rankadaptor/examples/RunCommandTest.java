package org.rankadaptor.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.llama.PeftAdapters;
import org.rankadaptor.dl4j.testing.SharedFiles;

/** The {@code run} command in-process on stories260K with tiny settings, and its argument errors. */
class RunCommandTest {

  @TempDir static Path dir;

  private static Path model;
  private static Path tokenizer;
  private static Path recovery;
  private static Path heldOut;
  private static Path wikitext;
  private static Path alpaca;
  private static Path piqa;

  @BeforeAll
  static void files() throws IOException {
    model = SharedFiles.require("data/models/stories260K/stories260K.bin");
    tokenizer = SharedFiles.require("data/models/stories260K/tok512.bin");
    wikitext = SharedFiles.require("data/text/wikitext2/wiki.test.raw");
    alpaca = SharedFiles.require("data/text/alpaca/alpaca_data_1k.json");
    piqa = SharedFiles.require("data/tasks/llm_adapters_format/piqa/test.json");
    // Recovery and held-out evaluation must not share text: split the excerpt into two temporary files.
    String stories = Files.readString(SharedFiles.require("data/text/tinystories/TinyStories-valid-excerpt.txt"));
    recovery = Files.writeString(dir.resolve("recovery.txt"), stories.substring(0, stories.length() * 2 / 3));
    heldOut = Files.writeString(dir.resolve("held-out.txt"), stories.substring(stories.length() * 2 / 3));
  }

  private static List<String> tiny(Path out, String... more) {
    List<String> args = new ArrayList<>(List.of(
        "run", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
        "--recovery-data", recovery.toString(), "--validation", "8", "--steps", "3",
        "--calibration-samples", "2", "--ranks", "2,4,8", "--eval-tokens", "256", "--eval-items", "8",
        "--seed", "5", "--out", out.toString()));
    args.addAll(List.of(more));
    return args;
  }

  @Test
  void widthPrunesSearchesAndWritesEverything() throws IOException {
    Path out = dir.resolve("width");
    List<String> args = tiny(out, "--prune", "width", "--ratio", "0.2", "--layers", "1..3",
        "--target", "piqa:" + piqa, "--source", "ppl:" + wikitext, "--source", "ppl:" + alpaca,
        "--source-configs", "2", "--evaluations", "2", "--predictor", "ridge", "--merge");
    // The MLP predictor is exercised by the library's end-to-end test; here a second run checks that the
    // command resumes from its store.
    CommandRun run = CommandRun.execute(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.err()).contains("recovering 8,").contains("step 3/3").contains("evaluation 1:");
    assertThat(run.out()).contains("RankAdaptor run on piqa").contains("uniform rank 8").contains("no recovery");

    JsonNode result = new ObjectMapper().readTree(out.resolve("result.json").toFile());
    RankConfig best = RankConfig.parse(result.path("best").asText());
    assertThat(best.rank(0)).isEqualTo(8);
    assertThat(best.rank(4)).isEqualTo(8);
    assertThat(List.of(2, 4, 8)).contains(best.rank(1), best.rank(2), best.rank(3));
    assertThat(result.path("trace")).hasSize(2);
    assertThat(result.path("baselines").path("none").path("metrics").has("acc")).isTrue();
    JsonNode provenance = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
    assertThat(provenance.path("pruning").path("firstLayer").asInt()).isEqualTo(1);
    assertThat(provenance.path("sources").has("ppl/wiki.test.raw")).isTrue();
    assertThat(provenance.path("recovery").path("settings").path("maxSteps").asInt()).isEqualTo(3);
    assertThat(provenance.path("settings").has("recovery.maxSteps")).as("recovery settings have one home").isFalse();

    try (ObservationStore store = ObservationStore.open(out.resolve("observations.jsonl"))) {
      assertThat(store.forTask("ppl/wiki.test.raw")).hasSize(2);
      assertThat(store.forTask("ppl/alpaca_data_1k.json")).hasSize(2);
      // Two search evaluations plus the two baselines (one may coincide with a search choice).
      assertThat(store.forTask("piqa").size()).isBetween(3, 4);
    }
    // The merged model has the pruned architecture, smaller than the original, and the adapters
    // re-import onto it with the chosen ranks.
    LlamaModel original = LlamaCheckpoints.fromLlama2c(Llama2cCheckpoint.read(model), DataType.FLOAT);
    LlamaModel merged = LlamaCheckpoints.load(out.resolve("merged"), DataType.FLOAT);
    assertThat(merged.config().layer(2).hiddenDim()).isLessThan(original.config().layer(2).hiddenDim());
    assertThat(merged.config().layer(0)).isEqualTo(original.config().layer(0));
    LoraAdapters adapters = PeftAdapters.read(out.resolve("adapters"), merged.config(), DataType.FLOAT);
    for (int l = 0; l < 5; l++) {
      int rank = best.rank(l);
      assertThat(adapters.layer(l).values()).isNotEmpty().allSatisfy(a -> assertThat(a.rank()).isEqualTo(rank));
    }

    CommandRun again = CommandRun.execute(args.toArray(String[]::new));
    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(again.out()).contains("0 recoveries in this run").contains("from store");
    assertThat(again.err()).doesNotContain("recovering");
    JsonNode second = new ObjectMapper().readTree(out.resolve("result.json").toFile());
    assertThat(second.path("best").asText()).isEqualTo(best.format());
    assertThat(second.path("bestScore").asDouble()).isEqualTo(result.path("bestScore").asDouble());
  }

  @Test
  void adaLoraRecoversOnceAndWritesPeftsAdaLoraFormat() throws IOException {
    Path out = dir.resolve("adalora");
    List<String> args = tiny(out, "--prune", "width", "--ratio", "0.2", "--layers", "1..3",
        "--method", "adalora", "--target", "ppl:" + heldOut, "--merge");
    args.set(args.indexOf("--steps") + 1, "10");
    CommandRun run = CommandRun.execute(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("AdaLoRA on ppl/").contains("ranks learned per layer").contains("uniform rank 8's");
    JsonNode result = new ObjectMapper().readTree(out.resolve("result.json").toFile());
    assertThat(result.path("method").asText()).isEqualTo("adalora");
    assertThat(result.path("totalSteps").asInt()).isEqualTo(10);
    // 5 layers x 7 projections at target_r 8: 280 triplets kept of 420.
    assertThat(result.path("keptTriplets").asLong()).isEqualTo(280);
    assertThat(result.path("tripletBudget").asLong()).isEqualTo(280);
    assertThat(result.path("learnedRanks")).hasSize(35);
    assertThat(result.path("adalora").path("tinit").asText()).isEqualTo("1");
    assertThat(result.path("adalora").path("tfinal").asText()).isEqualTo("3");
    JsonNode config = new ObjectMapper().readTree(out.resolve("adapters/adapter_config.json").toFile());
    assertThat(config.path("peft_type").asText()).isEqualTo("ADALORA");
    assertThat(config.path("total_step").asInt()).isEqualTo(10);
    assertThat(config.path("rank_pattern")).hasSize(35);
    LlamaModel merged = LlamaCheckpoints.load(out.resolve("merged"), DataType.FLOAT);
    var adapters = PeftAdapters.readAdaLora(out.resolve("adapters"), merged.config(), DataType.FLOAT);
    assertThat(adapters.keptTriplets()).isEqualTo(280);
    try (ObservationStore store = ObservationStore.open(out.resolve("observations.jsonl"))) {
      assertThat(store.all()).hasSize(1);
      assertThat(store.all().get(0).provenance().settings()).containsKey("learnedRanks");
    }
    List<String> badArgs = tiny(dir.resolve("adalora-bad"), "--method", "adalora", "--tinit", "6", "--tfinal", "4",
        "--target", "ppl:" + heldOut);
    badArgs.set(badArgs.indexOf("--steps") + 1, "10");
    CommandRun bad = CommandRun.execute(badArgs.toArray(String[]::new));
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.err()).contains("tinit (6) + tfinal (4)");
  }

  @Test
  void twoFineTunesAtOnceOnThreadsAndOnALocalSparkMasterGiveOneTrace() throws IOException {
    List<JsonNode> traces = new ArrayList<>();
    for (String[] executor : new String[][] {{"--parallel", "2"}, {"--parallel", "2", "--spark-master", "local[2]"}}) {
      Path out = dir.resolve("parallel-" + executor.length);
      List<String> args = tiny(out, "--prune", "width", "--ratio", "0.2", "--layers", "1..3",
          "--target", "ppl:" + heldOut, "--evaluations", "6", "--predictor", "ridge", "--protocol", "paper");
      args.addAll(List.of(executor));
      CommandRun run = CommandRun.execute(args.toArray(String[]::new));
      assertThat(run.exitCode()).as(run.err()).isZero();
      JsonNode result = new ObjectMapper().readTree(out.resolve("result.json").toFile());
      traces.add(result.path("trace"));
      JsonNode provenance = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
      assertThat(provenance.path("settings").path("parallel").asText()).isEqualTo("2");
    }
    assertThat(traces.get(1)).hasSize(traces.get(0).size());
    for (int i = 0; i < traces.get(0).size(); i++) {
      JsonNode threads = traces.get(0).get(i);
      JsonNode spark = traces.get(1).get(i);
      assertThat(spark.path("config").asText()).isEqualTo(threads.path("config").asText());
      assertThat(spark.path("batch").asInt()).isEqualTo(threads.path("batch").asInt());
      assertThat(spark.path("measured").asDouble()).isEqualTo(threads.path("measured").asDouble());
    }
    // Some batch ran two fine-tunes at once.
    List<Integer> batches = new ArrayList<>();
    traces.get(0).forEach(r -> batches.add(r.path("batch").asInt()));
    assertThat(batches.stream().distinct().count()).isLessThan(batches.size());
  }

  @Test
  void depthPrunesAndSearchesTheShorterModel() throws IOException {
    Path out = dir.resolve("depth");
    CommandRun run = CommandRun.execute(tiny(out, "--prune", "depth", "--ratio", "0.2", "--layers", "1..3", "--importance", "ppl",
        "--target", "ppl:" + heldOut, "--evaluations", "1", "--meta-iterations", "5").toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode result = new ObjectMapper().readTree(out.resolve("result.json").toFile());
    assertThat(RankConfig.parse(result.path("best").asText()).length()).isEqualTo(4);
    assertThat(result.path("bestMetrics").path("ppl").asDouble()).isGreaterThan(1);
    JsonNode provenance = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
    assertThat(provenance.path("pruning").path("removedBlocks")).hasSize(1);
    assertThat(provenance.path("sourceObservations").asInt()).isZero();
  }

  @Test
  void helpListsTheOptions() {
    CommandRun run = CommandRun.execute("run", "--help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("--recovery-data", "--target", "--source", "--evaluations", "--store", "ppl:FILE");
  }

  @Test
  void badArgumentsAreNamed() {
    Path out = dir.resolve("bad");
    CommandRun ratio = CommandRun.execute(tiny(out, "--ratio", "1.5", "--target", "ppl:" + heldOut).toArray(String[]::new));
    assertThat(ratio.exitCode()).isEqualTo(2);
    assertThat(ratio.err()).contains("--ratio must be in (0, 1), got 1.5");

    CommandRun kind = CommandRun.execute(tiny(out, "--target", "squad:" + heldOut).toArray(String[]::new));
    assertThat(kind.exitCode()).isEqualTo(2);
    assertThat(kind.err()).contains("unknown task kind 'squad'");

    CommandRun layers = CommandRun.execute(tiny(out, "--layers", "3..9", "--target", "ppl:" + heldOut).toArray(String[]::new));
    assertThat(layers.exitCode()).isEqualTo(1 + 1);
    assertThat(layers.err()).contains("--layers 3..9 is not a range within the model's layers 0..4");

    CommandRun missing = CommandRun.execute(tiny(out, "--target", "ppl:" + dir.resolve("nope.txt")).toArray(String[]::new));
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).contains("--target: ").contains("nope.txt does not exist");

    CommandRun huge = CommandRun.execute(tiny(out, "--ranks", "2147483647", "--target", "ppl:" + heldOut)
        .toArray(String[]::new));
    assertThat(huge.exitCode()).isEqualTo(2);
    assertThat(huge.err()).contains("--ranks must lie in 0..65536, got 2147483647");

    CommandRun wide = CommandRun.execute(tiny(out, "--ranks", "100", "--target", "ppl:" + heldOut)
        .toArray(String[]::new));
    assertThat(wide.exitCode()).isEqualTo(1);
    assertThat(wide.err()).contains("--ranks: rank 100 exceeds layer 0").contains("smallest projection dimension");

    CommandRun longLayers = CommandRun.execute(tiny(out, "--layers", "1..99999999999", "--target", "ppl:" + heldOut)
        .toArray(String[]::new));
    assertThat(longLayers.exitCode()).isEqualTo(2);
    assertThat(longLayers.err()).contains("--layers must look like A..B").doesNotContain("For input string");
    // A usage error is one line and a pointer to --help, not the usage text.
    assertThat(longLayers.err().lines().count()).isLessThanOrEqualTo(3);
    assertThat(longLayers.err()).contains("Try 'rankadaptor run --help'");

    List<String> folderData = tiny(out, "--target", "ppl:" + heldOut);
    folderData.set(folderData.indexOf(recovery.toString()), dir.toString());
    CommandRun folder = CommandRun.execute(folderData.toArray(String[]::new));
    assertThat(folder.exitCode()).isEqualTo(2);
    assertThat(folder.err()).contains("--recovery-data: ").contains("is a folder");

    Path latin1 = dir.resolve("latin1.txt");
    Path emptyModel = dir.resolve("empty-model");
    try {
      Files.write(latin1, "caf\u00e9 au lait".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      Files.createDirectories(emptyModel);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    CommandRun notUtf8 = CommandRun.execute(tiny(out, "--target", "ppl:" + latin1).toArray(String[]::new));
    assertThat(notUtf8.exitCode()).isEqualTo(1);
    assertThat(notUtf8.err()).contains("latin1.txt").contains("is not UTF-8 text");

    List<String> emptyArgs = tiny(out, "--target", "ppl:" + heldOut);
    emptyArgs.set(emptyArgs.indexOf(model.toString()), emptyModel.toString());
    CommandRun empty = CommandRun.execute(emptyArgs.toArray(String[]::new));
    assertThat(empty.exitCode()).isEqualTo(1);
    assertThat(empty.err()).contains("empty-model").contains("config.json").contains("is missing");

    Path broken = dir.resolve("broken.bin");
    try {
      Files.write(broken, new byte[] {1, 2, 3});
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    List<String> args = tiny(out, "--target", "ppl:" + heldOut);
    args.set(args.indexOf(model.toString()), broken.toString());
    CommandRun damaged = CommandRun.execute(args.toArray(String[]::new));
    assertThat(damaged.exitCode()).isEqualTo(1);
    assertThat(damaged.err()).startsWith("loading").contains("error: ").contains("broken.bin");
  }
}
