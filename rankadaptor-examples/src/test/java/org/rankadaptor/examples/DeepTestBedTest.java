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
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.testing.SharedFiles;
import org.rankadaptor.replay.RecoveryTable;

/**
 * The deep test bed end to end on tiny settings: a 5-layer deep model pretrained for a few steps on a few
 * sampled stories and cached; a sampled table on it and the spread of that table; and the experiment with
 * {@code --model deep}.
 */
class DeepTestBedTest {

  @TempDir static Path dir;

  private static Path data;
  private static Path cache;
  private static CommandRun pretrained;

  private static List<String> deepModel() {
    return List.of("--data", data.toString(), "--cache", cache.toString(), "--deep-layers", "5", "--pretrain-steps",
        "3", "--pretrain-stories", "8");
  }

  private static String[] command(String name, List<String> more) {
    List<String> args = new ArrayList<>(List.of(name));
    args.addAll(deepModel());
    args.addAll(more);
    return args.toArray(String[]::new);
  }

  @BeforeAll
  static void pretrainOnce() {
    data = SharedFiles.require("data");
    SharedFiles.require("data/models/stories260K/stories260K.bin");
    cache = dir.resolve("cache");
    pretrained = CommandRun.execute(command("pretrain", List.of()));
    assertThat(pretrained.exitCode()).as(pretrained.err()).isZero();
  }

  @Test
  void pretrainingBuildsTheModelOnceAndReportsItBesideItsTeacher() throws IOException {
    assertThat(pretrained.out()).contains("pretrained in", "stories260K", "deep");
    try (var folders = Files.list(cache)) {
      assertThat(folders.map(p -> p.getFileName().toString()).toList())
          .anyMatch(name -> name.startsWith("deep-") && !name.endsWith(".bin"))
          .anyMatch(name -> name.startsWith("deep-corpus-"));
    }
    CommandRun again = CommandRun.execute(command("pretrain", List.of()));
    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(again.out()).contains("loaded from the cache");
    assertThat(again.err()).doesNotContain("sampling", "pretraining step");
  }

  @Test
  void aSampledTableOfTheDeepModelFeedsTheSpreadReport() throws IOException {
    Path table = dir.resolve("table");
    CommandRun run = CommandRun.execute(command("table", List.of("--model", "deep", "--out", table.toString(),
        "--sample", "3", "--seeds", "2", "--steps", "2", "--generated-stories", "2")));
    assertThat(run.exitCode()).as(run.err()).isZero();
    CommandRun export = CommandRun.execute(command("table", List.of("--model", "deep", "--out", table.toString(),
        "--sample", "3", "--export")));
    assertThat(export.exitCode()).as(export.err()).isZero();
    RecoveryTable rows = RecoveryTable.read(table.resolve("table.jsonl"));
    assertThat(rows.configs()).hasSize(4).contains(RankConfig.uniform(5, 8));
    assertThat(rows.commonSeeds()).containsExactly(42L, 43L);
    JsonNode provenance = new ObjectMapper().readTree(table.resolve("provenance.json").toFile());
    assertThat(provenance.get("model").asText()).isEqualTo("deep");
    assertThat(provenance.get("searchedLayers").toString()).isEqualTo("[1,2]");
    // Every sampled vector is within uniform rank 8's trainable parameters.
    long[] perRank = new ObjectMapper().convertValue(provenance.get("parametersPerRank"), long[].class);
    long uniform = 0;
    for (long p : perRank) {
      uniform += 8 * p;
    }
    for (RankConfig c : rows.configs()) {
      long cost = 0;
      for (int l = 0; l < perRank.length; l++) {
        cost += (long) c.rank(l) * perRank[l];
      }
      assertThat(cost).as(c.format()).isLessThanOrEqualTo(uniform);
    }

    Path spread = dir.resolve("spread");
    CommandRun report = CommandRun.execute("spread", "--table", table.toString(), "--out", spread.toString());
    assertThat(report.exitCode()).as(report.err()).isZero();
    assertThat(Files.readString(spread.resolve("report.md"))).contains("Does rank allocation matter?", "F, p",
        "uniform rank 8's place");
    assertThat(spread.resolve("figures/spread-tinystories-test.svg")).exists();
  }

  @Test
  void unevenPruningCapsTheCandidatesOfALayerLeftNarrow() throws IOException {
    // Ranked across the two pruned layers, 90 % leaves each one key/value head of width 8: no rank above 8.
    Path table = dir.resolve("uneven");
    CommandRun run = CommandRun.execute(command("table", List.of("--model", "deep", "--out", table.toString(),
        "--setting", "width-global:0.9", "--sample", "4", "--seeds", "1", "--steps", "2", "--generated-stories", "2")));
    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode provenance = new ObjectMapper().readTree(table.resolve("provenance.json").toFile());
    assertThat(provenance.get("space").asText()).contains("8");
    CommandRun export = CommandRun.execute(command("table", List.of("--model", "deep", "--out", table.toString(),
        "--setting", "width-global:0.9", "--export")));
    assertThat(export.exitCode()).as(export.err()).isZero();
    RecoveryTable rows = RecoveryTable.read(table.resolve("table.jsonl"));
    assertThat(rows.configs()).hasSize(5);
    for (RankConfig c : rows.configs()) {
      assertThat(c.rank(1)).as(c.format()).isLessThanOrEqualTo(8);
      assertThat(c.rank(2)).as(c.format()).isLessThanOrEqualTo(8);
    }
  }

  @Test
  void theExperimentRunsOnTheDeepModel() throws IOException {
    Path out = dir.resolve("experiment");
    CommandRun run = CommandRun.execute(command("experiment", List.of("--model", "deep", "--out", out.toString(),
        "--settings", "width:0.3,depth:1", "--evaluations", "2", "--source-configs", "2", "--steps", "2", "--seeds",
        "2", "--eval-items", "4", "--generated-stories", "2", "--meta-iterations", "5", "--seed", "7",
        "--adalora-lr-scales", "3")));
    assertThat(run.exitCode()).as(run.err()).isZero();
    String report = Files.readString(out.resolve("report.md"));
    assertThat(report).contains("RankAdaptor on the deep test model", "layers 1..2", "4 key/value heads",
        "| AdaLoRA |");
    JsonNode numbers = new ObjectMapper().readTree(out.resolve("experiment.json").toFile());
    assertThat(numbers.get("model").asText()).isEqualTo("the deep test model");
    assertThat(numbers.get("settings")).hasSize(2);
  }

  @Test
  void badDeepModelOptionsAreUsageErrors() {
    CommandRun run = CommandRun.execute("pretrain", "--data", data.toString(), "--deep-layers", "3");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--deep-layers must be at least 4");
  }
}
