package org.rankadaptor.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code replay} command on the committed table of real recoveries, with few search seeds. */
class ReplayCommandTest {
  @TempDir Path dir;

  private static final Path TABLE = Path.of("..", "docs", "recovery-table");

  @Test
  void writesTheReportWithEveryStrategy() throws Exception {
    CommandRun run = CommandRun.execute("replay", "--table", TABLE.toString(), "--out", dir.toString(),
        "--searches", "2", "--budget", "12");
    assertThat(run.exitCode()).as(run.err()).isZero();
    String report = Files.readString(dir.resolve("report.md"));
    assertThat(report).contains("| RankAdaptor, default protocol, MLP, no source task |",
        "| RankAdaptor, paper protocol, MLP, no source task |", "| Random search (best single measurement) |",
        "| Uniform rank 8 |", "top 5 % = the best 8", "its own 80 % interval covered");
    JsonNode json = new ObjectMapper().readTree(dir.resolve("replay.json").toFile());
    assertThat(json.get("configurations").asInt()).isEqualTo(160);
    for (JsonNode strategy : json.get("strategies")) {
      assertThat(strategy.get("returned")).hasSize(2);
      assertThat(strategy.get("meanRegret").asDouble()).isGreaterThanOrEqualTo(0);
      assertThat(strategy.get("meanFineTunes").asDouble()).isLessThanOrEqualTo(12);
    }
  }

  @Test
  void aMissingTableIsAnErrorNamingTheFile() {
    CommandRun run = CommandRun.execute("replay", "--table", dir.resolve("nothing").toString(), "--out",
        dir.resolve("out").toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("nothing").contains("table.jsonl");
  }
}
