package org.rankadaptor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ObservationStoreTest {
  @TempDir Path dir;

  private static Observation observation(String task, int rank, double score) {
    return Observation.succeeded(task, RankConfig.of(8, rank, 8),
        new Evaluation(score, Map.of("acc", score)), 1.5,
        new Provenance(7, "model-abc", "data-def", Map.of("lr", "1e-4")));
  }

  @Test
  void reopenedStoreHasEverythingAppended() {
    Path file = dir.resolve("store.jsonl");
    Observation failed = Observation.failed("piqa", RankConfig.of(8, 2, 8), "loss became NaN at step 3", 0.2,
        Provenance.ofSeed(7));
    try (ObservationStore store = ObservationStore.open(file)) {
      store.append(observation("piqa", 4, 0.61));
      store.append(observation("boolq", 6, 0.55));
      store.append(failed);
    }
    try (ObservationStore store = ObservationStore.open(file)) {
      assertThat(store.size()).isEqualTo(3);
      assertThat(store.tornLine()).isEmpty();
      Observation first = store.all().get(0);
      assertThat(first.config()).isEqualTo(RankConfig.of(8, 4, 8));
      assertThat(first.score()).isEqualTo(0.61);
      assertThat(first.metrics()).containsEntry("acc", 0.61);
      assertThat(first.provenance().modelFingerprint()).isEqualTo("model-abc");
      assertThat(first.provenance().settings()).containsEntry("lr", "1e-4");
      assertThat(store.forTask("boolq")).hasSize(1);
      Observation third = store.all().get(2);
      assertThat(third.succeeded()).isFalse();
      assertThat(third.score()).isNaN();
      assertThat(third.failure()).isEqualTo("loss became NaN at step 3");
      assertThat(store.succeededByTask().keySet()).containsExactlyInAnyOrder("piqa", "boolq");
    }
  }

  @Test
  void tornLastLineIsReportedSkippedAndMovedAsideWhileEarlierRecordsSurvive() throws IOException {
    Path file = dir.resolve("store.jsonl");
    try (ObservationStore store = ObservationStore.open(file)) {
      store.append(observation("piqa", 4, 0.61));
      store.append(observation("piqa", 6, 0.63));
    }
    String full = Files.readString(file);
    String torn = full.substring(full.indexOf('\n') + 1, full.indexOf('\n') + 40);
    Files.writeString(file, full.substring(0, full.indexOf('\n') + 1) + torn);

    try (ObservationStore store = ObservationStore.open(file)) {
      assertThat(store.size()).isEqualTo(1);
      assertThat(store.tornLine()).contains(torn);
      store.append(observation("piqa", 12, 0.70));
    }
    try (ObservationStore store = ObservationStore.open(file)) {
      assertThat(store.tornLine()).isEmpty();
      assertThat(store.all()).extracting(Observation::score).containsExactly(0.61, 0.70);
    }
    try (Stream<Path> files = Files.list(dir)) {
      Path aside = files.filter(p -> p.getFileName().toString().startsWith("store.jsonl.torn-")).findFirst().orElseThrow();
      assertThat(Files.readString(aside, StandardCharsets.UTF_8)).isEqualTo(torn);
    }
  }

  @Test
  void damagedCompleteLineIsAnErrorNamingFileAndLine() throws IOException {
    Path file = dir.resolve("store.jsonl");
    try (ObservationStore store = ObservationStore.open(file)) {
      store.append(observation("piqa", 4, 0.61));
    }
    Files.writeString(file, Files.readString(file) + "{\"task\": \"piqa\", \"config\": \"8,x\"}\n");
    assertThatThrownBy(() -> ObservationStore.open(file))
        .isInstanceOf(ObservationStoreException.class)
        .hasMessageContaining("store.jsonl line 2");
  }

  @Test
  void succeededObservationNeedsAFiniteScore() {
    assertThatThrownBy(() -> Observation.succeeded("piqa", RankConfig.of(8), Evaluation.of(Double.NaN), 0, Provenance.ofSeed(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
