package org.rankadaptor.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.Evaluation;
import org.rankadaptor.Observation;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankAdaptorException;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RecoveryFailedException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RecoveryTableTest {
  @TempDir Path dir;

  private static final RankConfig A = RankConfig.of(8, 2, 4, 8);
  private static final RankConfig B = RankConfig.of(8, 12, 4, 8);

  private static RecoveryTable small() {
    return RecoveryTable.of(List.of(
        new RecoveryTable.Row(A, 1, Map.of("valid", -2.0, "test", -2.1), 3.5, Optional.empty()),
        new RecoveryTable.Row(A, 2, Map.of("valid", -2.2, "test", -2.3), 3.1, Optional.empty()),
        new RecoveryTable.Row(B, 1, Map.of("valid", -1.8, "test", -1.9), 4.0, Optional.empty()),
        new RecoveryTable.Row(B, 2, Map.of(), 0.5, Optional.of("loss became NaN at step 3"))));
  }

  @Test
  void writesAndReadsBackTheSameRows() {
    Path file = dir.resolve("table.jsonl");
    small().write(file);
    RecoveryTable read = RecoveryTable.read(file);
    assertThat(read.size()).isEqualTo(4);
    assertThat(read.configs()).containsExactly(A, B);
    assertThat(read.tasks()).containsExactly("test", "valid");
    assertThat(read.score(A, 2, "valid")).hasValue(-2.2);
    assertThat(read.row(B, 2).orElseThrow().failure()).contains("loss became NaN at step 3");
    assertThat(read.meanScore(A, "valid", List.of(1L, 2L))).isCloseTo(-2.1, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(read.commonSeeds()).containsExactly(1L, 2L);
  }

  @Test
  void replaysRowsAsRecoveriesAndScores() {
    RecoveryTable table = small();
    RecoveryTable.Row row = table.runner().recover(A, 2);
    assertThat(table.evaluator("test").evaluate(row).score()).isEqualTo(-2.3);
    assertThatThrownBy(() -> table.runner().recover(B, 2)).isInstanceOf(RecoveryFailedException.class)
        .hasMessageContaining("NaN");
    assertThatThrownBy(() -> table.runner().recover(A, 3)).isInstanceOf(RankAdaptorException.class)
        .hasMessageContaining("no row for 8,2,4,8 with seed 3");
    assertThatThrownBy(() -> table.evaluator("piqa")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no task 'piqa'");
  }

  @Test
  void groupsAStoresObservationsByConfigurationAndSeed() {
    RecoveryTable table = RecoveryTable.fromObservations(List.of(
        Observation.succeeded("valid", A, Evaluation.of(-2.0), 3.0, Provenance.ofSeed(1)),
        Observation.succeeded("test", A, Evaluation.of(-2.1), 0.5, Provenance.ofSeed(1)),
        Observation.failed("valid", B, "diverged", 1.0, Provenance.ofSeed(1))));
    assertThat(table.row(A, 1).orElseThrow().scores()).isEqualTo(Map.of("valid", -2.0, "test", -2.1));
    assertThat(table.row(A, 1).orElseThrow().costSeconds()).isEqualTo(3.5);
    assertThat(table.row(B, 1).orElseThrow().succeeded()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"config\":\"8,2,4,8\",\"seed\":7.9,\"scores\":{\"v\":-2.0},\"costSeconds\":1}|seed must be an integer",
      "{\"config\":\"8,2,4,8\",\"seed\":7,\"scores\":{\"v\":\"-2.0\"},\"costSeconds\":1}|must be a number",
      "{\"config\":\"8,2,4,8\",\"seed\":7,\"scores\":{\"v\":-2.0}}|missing field 'costSeconds'",
      "{\"config\":\"8,2,4,8\",\"seed\":7,\"scores\":{\"v\":-2.0},\"costSeconds\":1,\"extra\":1}|unknown field 'extra'",
      "{\"config\":\"8,x,4,8\",\"seed\":7,\"scores\":{\"v\":-2.0},\"costSeconds\":1}|'x' is not an integer rank",
      "{\"config\":\"8,2,4,8\",\"seed\":7,\"costSeconds\":1}|either non-empty scores or a failure",
      "[1,2]|not a JSON object",
      "{\"config\":\"8,2,4,8\",\"seed\":7,\"scores\":{\"v\":-2.0},\"costSeconds\":1} {}|Trailing token",
      "{\"config\":\"8,2,4,8\",\"seed\":7,\"seed\":8,\"scores\":{\"v\":-2.0},\"costSeconds\":1}|Duplicate field"})
  void badLinesAreErrorsNamingTheFileAndLine(String caseText) throws IOException {
    String[] parts = caseText.split("\\|");
    Path file = dir.resolve("bad.jsonl");
    String good = "{\"config\":\"8,2,4,8\",\"seed\":1,\"scores\":{\"v\":-2.0},\"costSeconds\":1}";
    Files.writeString(file, good + "\n" + parts[0] + "\n");
    assertThatThrownBy(() -> RecoveryTable.read(file)).isInstanceOf(RecoveryTableException.class)
        .hasMessageContaining(file + " line 2").hasMessageContaining(parts[1]);
  }

  @Test
  void theReplaysNoiseIsWhatRemainsAfterConfigurationAndSeedEffects() {
    org.rankadaptor.RankSpace space = org.rankadaptor.RankSpace.builder(2).candidates(2, 8).build();
    List<RankConfig> configs = space.enumerate();
    double[] seedShift = {0.3, -0.1, 0.05};
    java.util.List<RecoveryTable.Row> additive = new java.util.ArrayList<>();
    java.util.List<RecoveryTable.Row> noisy = new java.util.ArrayList<>();
    for (int c = 0; c < configs.size(); c++) {
      for (int s = 0; s < seedShift.length; s++) {
        double clean = -2 + 0.01 * c + seedShift[s];
        // A residual of +-0.02 in a checkerboard: it survives removing row and column means.
        double residual = ((c + s) % 2 == 0 ? 0.02 : -0.02) * (c < 2 ? 1 : -1);
        additive.add(new RecoveryTable.Row(configs.get(c), s, Map.of("v", clean), 1, Optional.empty()));
        noisy.add(new RecoveryTable.Row(configs.get(c), s, Map.of("v", clean + residual), 1, Optional.empty()));
      }
    }
    assertThat(new TableReplay(RecoveryTable.of(additive), space, "v").noise()).isCloseTo(0.0,
        org.assertj.core.data.Offset.offset(1e-12));
    assertThat(new TableReplay(RecoveryTable.of(noisy), space, "v").noise()).isPositive();
  }

  @Test
  void aSecondRowForTheSameConfigurationAndSeedIsAnError() throws IOException {
    Path file = dir.resolve("dup.jsonl");
    String row = "{\"config\":\"8,2,4,8\",\"seed\":1,\"scores\":{\"v\":-2.0},\"costSeconds\":1}";
    Files.writeString(file, row + "\n" + row + "\n");
    assertThatThrownBy(() -> RecoveryTable.read(file)).isInstanceOf(RecoveryTableException.class)
        .hasMessageContaining("line 2: a second row for 8,2,4,8 with seed 1");
  }
}
