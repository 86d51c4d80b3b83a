package org.rankadaptor.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.testing.SharedFiles;
import org.rankadaptor.replay.RecoveryTable;

/**
 * The {@code table} command in-process on stories260K with tiny settings: two shards of a few
 * configurations, a rerun that recovers nothing, and the export.
 */
class TableCommandTest {
  @TempDir Path dir;

  private String[] tiny(String shard, String... more) {
    List<String> args = new java.util.ArrayList<>(List.of("table", "--data", SharedFiles.require("data").toString(),
        "--out", dir.toString(), "--seeds", "2", "--steps", "2", "--generated-stories", "2", "--shard", shard));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  @Test
  void recoversEveryConfigurationOfItsShardWithEverySeedAndExportsOneRowEach() throws Exception {
    SharedFiles.require("data/models/stories260K/stories260K.bin");
    // 216 configurations; shards 0/108 and 1/108 take configurations 0, 108 and 1, 109.
    CommandRun first = CommandRun.execute(tiny("0/108"));
    assertThat(first.exitCode()).as(first.err()).isZero();
    CommandRun second = CommandRun.execute(tiny("1/108"));
    assertThat(second.exitCode()).as(second.err()).isZero();
    CommandRun again = CommandRun.execute(tiny("0/108"));
    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(again.err()).doesNotContain("measured of").contains("complete: 4 recoveries");

    CommandRun export = CommandRun.execute(tiny("0/1", "--export"));
    assertThat(export.exitCode()).as(export.err()).isZero();
    RecoveryTable table = RecoveryTable.read(dir.resolve("table.jsonl"));
    assertThat(table.size()).isEqualTo(8);
    assertThat(table.configs()).hasSize(4).contains(RankConfig.of(8, 2, 2, 2, 8));
    assertThat(table.commonSeeds()).containsExactly(42L, 43L);
    assertThat(table.tasks()).containsExactly("tinystories-test", "tinystories-valid");
    assertThat(Files.readString(dir.resolve("provenance.json"))).contains("\"parametersPerRank\"", "width-50");
  }

  @Test
  void aBadShardIsAUsageError() {
    CommandRun run = CommandRun.execute("table", "--out", dir.toString(), "--shard", "2/2");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--shard: '2/2' is not K/N");
  }
}
