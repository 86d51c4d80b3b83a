package org.rankadaptor.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaModel;

/** The real {@code demo} in-process with a few steps of everything, and its synthetic variant. */
class DemoCommandTest {

  @TempDir Path dir;

  private String[] small(Path out) {
    return new String[] {
        "demo", "--cache", dir.resolve("cache").toString(), "--out", out.toString(), "--seed", "3",
        "--pretrain-steps", "6", "--steps", "2", "--evaluations", "2", "--source-tasks", "1",
        "--source-configs", "1", "--meta-iterations", "3", "--eval-tokens", "128"};
  }

  @Test
  void runsEveryStageAndReusesTheCachedModel() throws IOException {
    CommandRun first = CommandRun.execute(small(dir.resolve("out1")));
    assertThat(first.exitCode()).as(first.err()).isZero();
    assertThat(first.err()).contains("pretrained and cached").contains("width pruning").contains("recovering")
        .contains("evaluation 1:");
    assertThat(first.out()).contains("target ppl/pets");
    for (String row : List.of("RankAdaptor ", "uniform rank 8 ", "no recovery ", "unpruned (reference) ")) {
      assertThat(first.out().lines().filter(l -> l.startsWith(row) && l.contains("ppl "))).as(row).hasSize(1);
    }
    JsonNode result = new ObjectMapper().readTree(dir.resolve("out1/result.json").toFile());
    RankConfig best = RankConfig.parse(result.path("best").asText());
    // Layers 0 and 3 are not pruned and keep rank 8; the pruned layers 1..2 are searched.
    assertThat(best.rank(0)).isEqualTo(8);
    assertThat(best.rank(3)).isEqualTo(8);
    assertThat(result.path("baselines").path("none").path("metrics").has("ppl")).isTrue();
    JsonNode provenance = new ObjectMapper().readTree(dir.resolve("out1/provenance.json").toFile());
    assertThat(provenance.path("pruning").path("firstLayer").asInt()).isEqualTo(1);
    assertThat(provenance.path("settings").path("modelFingerprint").asText()).hasSize(64);

    Path weights = onlyModelFolder().resolve("model.safetensors");
    FileTime written = Files.getLastModifiedTime(weights);
    byte[] bytes = Files.readAllBytes(weights);

    CommandRun second = CommandRun.execute(small(dir.resolve("out2")));
    assertThat(second.exitCode()).as(second.err()).isZero();
    assertThat(second.err()).contains("reused the cached model").doesNotContain("pretrained and cached");
    assertThat(Files.getLastModifiedTime(weights)).isEqualTo(written);
    assertThat(Files.readAllBytes(weights)).isEqualTo(bytes);
    // Everything downstream is seeded: the same model gives the same table.
    assertThat(tableOf(second.out())).isEqualTo(tableOf(first.out()));

    // The same weights under another fingerprint are not trusted: the model is trained again, and the
    // seeded training gives the same table.
    LlamaModel cached = LlamaCheckpoints.load(weights.getParent(), DataType.FLOAT);
    LlamaCheckpoints.save(cached, weights.getParent(), Map.of("rankadaptor.demo.fingerprint", "0".repeat(64)));
    CommandRun third = CommandRun.execute(small(dir.resolve("out3")));
    assertThat(third.exitCode()).as(third.err()).isZero();
    assertThat(third.err()).contains("pretrained and cached");
    assertThat(tableOf(third.out())).isEqualTo(tableOf(first.out()));
  }

  @Test
  void syntheticDemoStillRunsTheCoreSearch() {
    CommandRun run = CommandRun.execute("demo", "--synthetic", "--evaluations", "6", "--source-tasks", "1");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("random search").contains("uniform rank 8").contains("optimum (exact)");
  }

  @Test
  void rejectsBadArguments() {
    CommandRun run = CommandRun.execute("demo", "--ratio", "1.5");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--ratio must be in (0, 1), got 1.5");
    assertThat(CommandRun.execute("demo", "--source-tasks", "4").err()).contains("--source-tasks must be in 0..3");
  }

  private Path onlyModelFolder() throws IOException {
    try (Stream<Path> s = Files.list(dir.resolve("cache"))) {
      List<Path> folders = s.toList();
      assertThat(folders).hasSize(1);
      assertThat(folders.get(0).getFileName().toString()).startsWith("demo-");
      return folders.get(0);
    }
  }

  /** The comparison rows, without the line that reports the wall time. */
  private static List<String> tableOf(String out) {
    return out.lines().filter(l -> l.contains("ppl ")).toList();
  }
}
