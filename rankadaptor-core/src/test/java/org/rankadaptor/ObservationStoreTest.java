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
  void aSecondWriterInThisProcessIsRefusedUntilTheFirstCloses() {
    Path file = dir.resolve("store.jsonl");
    try (ObservationStore first = ObservationStore.open(file)) {
      first.append(observation("piqa", 4, 0.61));
      assertThatThrownBy(() -> ObservationStore.open(file))
          .isInstanceOf(ObservationStoreException.class)
          .hasMessageContaining("store.jsonl")
          .hasMessageContaining("already open");
    }
    try (ObservationStore again = ObservationStore.open(file)) {
      assertThat(again.size()).isEqualTo(1);
    }
  }

  @Test
  void aSecondWriterInAnotherProcessIsRefusedNamingTheHolder() throws Exception {
    Path file = dir.resolve("store.jsonl");
    try (ObservationStore store = ObservationStore.open(file)) {
      store.append(observation("piqa", 4, 0.61));
    }
    Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), StoreHolder.class.getName(), file.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      String ready = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream(),
          StandardCharsets.UTF_8)).readLine();
      assertThat(ready).isEqualTo("held 1");
      assertThatThrownBy(() -> ObservationStore.open(file))
          .isInstanceOf(ObservationStoreException.class)
          .hasMessageContaining("is held by another process")
          .hasMessageContaining("pid " + holder.pid());
    } finally {
      holder.getOutputStream().close();
      assertThat(holder.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    }
    try (ObservationStore store = ObservationStore.open(file)) {
      store.append(observation("piqa", 6, 0.62));
      assertThat(store.size()).isEqualTo(2);
    }
  }

  @Test
  void appendsGoToTheEndOfTheFileAsItIsWhenWriting() throws IOException {
    Path file = dir.resolve("store.jsonl");
    String written;
    try (ObservationStore store = ObservationStore.open(file)) {
      store.append(observation("piqa", 4, 0.61));
      written = Files.readString(file);
      // Something else appends a line (a copy tool, a careless script) while the store is open.
      Files.writeString(file, written.replace("0.61", "0.99").replace("\"config\":\"8,4,8\"", "\"config\":\"8,2,8\""),
          StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
      store.append(observation("piqa", 6, 0.63));
    }
    try (ObservationStore store = ObservationStore.open(file)) {
      assertThat(store.all()).extracting(Observation::score).containsExactly(0.61, 0.99, 0.63);
    }
  }

  @Test
  void linesThatAreNotExactlyAnObservationAreRefusedNamingTheLine() throws IOException {
    Path file = dir.resolve("store.jsonl");
    try (ObservationStore store = ObservationStore.open(file)) {
      store.append(observation("piqa", 4, 0.61));
    }
    String good = Files.readString(file).strip();
    Map<String, String> bad = new java.util.LinkedHashMap<>();
    bad.put("content after the object", good + " {\"task\":\"x\"}");
    bad.put("a fractional seed", good.replace("\"seed\":7", "\"seed\":7.9"));
    bad.put("a seed as a string", good.replace("\"seed\":7", "\"seed\":\"7\""));
    bad.put("a score as a string", good.replace("\"score\":0.61", "\"score\":\"0.61\""));
    bad.put("no seed", good.replace("\"seed\":7,", ""));
    bad.put("no cost", good.replace("\"costSeconds\":1.5,", ""));
    bad.put("a duplicate key", good.replace("\"seed\":7", "\"seed\":7,\"seed\":8"));
    bad.put("NaN in the metrics", good.replace("\"acc\":0.61", "\"acc\":\"NaN\""));
    bad.put("an infinite metric", good.replace("\"acc\":0.61", "\"acc\":-1e309"));
    for (Map.Entry<String, String> e : bad.entrySet()) {
      assertThat(e.getValue()).as(e.getKey()).isNotEqualTo(good);
      Files.writeString(file, good + "\n" + e.getValue() + "\n");
      assertThatThrownBy(() -> ObservationStore.open(file)).as(e.getKey())
          .isInstanceOf(ObservationStoreException.class)
          .hasMessageContaining("store.jsonl line 2");
    }
  }

  @Test
  void aCompleteLastLineWithoutItsNewlineIsKeptNotTorn() throws IOException {
    Path file = dir.resolve("store.jsonl");
    try (ObservationStore store = ObservationStore.open(file)) {
      store.append(observation("piqa", 4, 0.61));
      store.append(observation("piqa", 6, 0.62));
    }
    Files.writeString(file, Files.readString(file).stripTrailing());
    try (ObservationStore store = ObservationStore.open(file)) {
      assertThat(store.tornLine()).isEmpty();
      assertThat(store.size()).isEqualTo(2);
      store.append(observation("piqa", 8, 0.63));
    }
    try (ObservationStore store = ObservationStore.open(file)) {
      assertThat(store.all()).extracting(Observation::score).containsExactly(0.61, 0.62, 0.63);
    }
  }

  @Test
  void succeededObservationNeedsAFiniteScore() {
    assertThatThrownBy(() -> Observation.succeeded("piqa", RankConfig.of(8), Evaluation.of(Double.NaN), 0, Provenance.ofSeed(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
