package org.rankadaptor.dl4j.recover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.dl4j.testing.ByteTokenizer;
import org.rankadaptor.dl4j.testing.SharedFiles;

class AlpacaDataTest {

  private static final ByteTokenizer TOKENIZER = new ByteTokenizer();

  @TempDir Path dir;

  @Test
  void promptWithoutInputIsAlpacaLorasTemplate() {
    assertThat(AlpacaData.prompt("Give three tips for staying healthy.", "")).isEqualTo(
        "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n"
            + "\n"
            + "### Instruction:\n"
            + "Give three tips for staying healthy.\n"
            + "\n"
            + "### Response:\n");
  }

  @Test
  void promptWithInputIsAlpacaLorasTemplate() {
    assertThat(AlpacaData.prompt("Check if the following Facebook post is appropriate", "I think my boss is the meanest person ever."))
        .isEqualTo("Below is an instruction that describes a task, paired with an input that provides further context."
            + " Write a response that appropriately completes the request.\n"
            + "\n"
            + "### Instruction:\n"
            + "Check if the following Facebook post is appropriate\n"
            + "\n"
            + "### Input:\n"
            + "I think my boss is the meanest person ever.\n"
            + "\n"
            + "### Response:\n");
  }

  @Test
  void placeholdersInsideValuesAreNotSubstituted() {
    String p = AlpacaData.prompt("Explain {input} in Python", "x = {}");
    assertThat(p).contains("### Instruction:\nExplain {input} in Python\n\n### Input:\nx = {}\n\n### Response:\n");
  }

  @Test
  void lossMaskCoversExactlyTheResponseAndEos() {
    AlpacaData.Record r = new AlpacaData.Record("Say hi.", "", "hi there");
    TrainingExample e = AlpacaData.example(TOKENIZER, r, 256);
    String prompt = AlpacaData.prompt("Say hi.", "");
    int promptTokens = 1 + prompt.length(); // BOS + one token per ASCII byte
    assertThat(e.length()).isEqualTo(promptTokens + "hi there".length() + 1);
    assertThat(e.tokens()[0]).isEqualTo(ByteTokenizer.BOS);
    assertThat(e.tokens()[e.length() - 1]).isEqualTo(ByteTokenizer.EOS);
    assertThat(TOKENIZER.decode(e.tokens())).isEqualTo(prompt + "hi there");
    for (int i = 0; i < e.length(); i++) {
      assertThat(e.lossMask()[i]).as("position %d", i).isEqualTo(i >= promptTokens);
    }
    assertThat(e.targetCount()).isEqualTo("hi there".length() + 1);
  }

  @Test
  void cutoffTruncatesAndDropsTheEosAsAlpacaLora() {
    AlpacaData.Record r = new AlpacaData.Record("Say hi.", "", "hi there");
    int promptTokens = 1 + AlpacaData.prompt("Say hi.", "").length();
    // Cut inside the response: no room for EOS.
    TrainingExample cut = AlpacaData.example(TOKENIZER, r, promptTokens + 3);
    assertThat(cut.length()).isEqualTo(promptTokens + 3);
    assertThat(cut.tokens()[cut.length() - 1]).isNotEqualTo(ByteTokenizer.EOS);
    assertThat(cut.targetCount()).isEqualTo(3);
    // One short of the cutoff: EOS fills the last place.
    TrainingExample exact = AlpacaData.example(TOKENIZER, r, promptTokens + "hi there".length() + 1);
    assertThat(exact.tokens()[exact.length() - 1]).isEqualTo(ByteTokenizer.EOS);
    // The prompt alone fills the cutoff: nothing to learn.
    assertThat(AlpacaData.example(TOKENIZER, r, promptTokens - 5).targetCount()).isZero();
  }

  @Test
  void loadDropsRecordsWithoutTargetsAndReadsAbsentInputAsNone() throws IOException {
    Path f = Files.writeString(dir.resolve("a.json"),
        "[{\"instruction\": \"Say hi.\", \"output\": \"hi\"},"
            + " {\"instruction\": \"" + "x".repeat(300) + "\", \"input\": \"\", \"output\": \"long\"}]");
    TrainingData data = AlpacaData.load(f, TOKENIZER, AlpacaData.DEFAULT_CUTOFF);
    assertThat(data.size()).isEqualTo(1);
    assertThat(TOKENIZER.decode(data.examples().get(0).tokens())).isEqualTo(AlpacaData.prompt("Say hi.", "") + "hi");
  }

  @Test
  void malformedRecordsAreNamed() throws IOException {
    Path f = Files.writeString(dir.resolve("bad.json"),
        "[{\"instruction\": \"a\", \"input\": \"\", \"output\": \"b\"}, {\"instruction\": \"a\", \"input\": 3, \"output\": \"b\"}]");
    assertThatThrownBy(() -> AlpacaData.read(f)).isInstanceOfSatisfying(TrainingDataException.class, e -> {
      assertThat(e.location()).isEqualTo("record 1");
      assertThat(e.field()).isEqualTo("input");
      assertThat(e.file()).isEqualTo(f);
    });
    Path g = Files.writeString(dir.resolve("bad2.json"), "[{\"instruction\": \"a\"}]");
    assertThatThrownBy(() -> AlpacaData.read(g)).isInstanceOfSatisfying(TrainingDataException.class,
        e -> assertThat(e.field()).isEqualTo("output"));
    Path h = Files.writeString(dir.resolve("bad3.json"), "[{\"instruction\": \"a\",");
    assertThatThrownBy(() -> AlpacaData.read(h)).isInstanceOf(TrainingDataException.class).hasMessageContaining("malformed JSON");
  }

  @Test
  void sharedAlpacaFilesLoad() {
    List<AlpacaData.Record> records = AlpacaData.read(SharedFiles.require("data/text/alpaca/alpaca_data_1k.json"));
    assertThat(records).hasSize(1000);
    assertThat(records.get(0).output()).isEqualTo("They walked to a nearby store.");
    assertThat(AlpacaData.read(SharedFiles.require("data/text/alpaca/alpaca_small.json"))).hasSize(2000);

    TrainingData data = AlpacaData.load(SharedFiles.require("data/text/alpaca/alpaca_data_1k.json"), TOKENIZER, 256);
    assertThat(data.size()).isBetween(1, 1000);
    for (TrainingExample e : data.examples()) {
      assertThat(e.length()).isLessThanOrEqualTo(256);
      assertThat(e.tokens()[0]).isEqualTo(ByteTokenizer.BOS);
      // Targets are one contiguous run at the end: the response (and EOS when it fits).
      int first = 0;
      while (!e.lossMask()[first]) {
        first++;
      }
      boolean[] tail = Arrays.copyOfRange(e.lossMask(), first, e.length());
      for (boolean b : tail) {
        assertThat(b).isTrue();
      }
    }
  }
}
