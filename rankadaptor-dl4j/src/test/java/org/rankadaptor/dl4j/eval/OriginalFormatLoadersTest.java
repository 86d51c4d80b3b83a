package org.rankadaptor.dl4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The published original formats, on small files written here, and their typed errors. */
class OriginalFormatLoadersTest {

  @TempDir Path dir;

  private Path write(String name, String content) throws IOException {
    return Files.writeString(dir.resolve(name), content);
  }

  @Test
  void hellaswagJsonl() throws IOException {
    Path f = write("hellaswag.jsonl",
        "{\"ind\": 24, \"activity_label\": \"Roof shingle removal\", \"ctx_a\": \"A man is sitting on a roof.\","
            + " \"ctx_b\": \"he\", \"ctx\": \"A man is sitting on a roof. he\", \"endings\": [\"is using wrap to wrap a pair of skis.\","
            + " \"is ripping level tiles off.\", \"is holding a rubik's cube.\", \"starts pulling up roofing on a roof.\"],"
            + " \"source_id\": \"activitynet~v_-JhWjGDPHMY\", \"split\": \"val\", \"split_type\": \"indomain\", \"label\": 3}\n");
    List<MultipleChoiceItem> items = TaskLoaders.hellaswagJsonl(f);
    assertThat(items).hasSize(1);
    MultipleChoiceItem item = items.get(0);
    assertThat(item.id()).isEqualTo("24");
    assertThat(item.contexts()).containsExactly("Roof shingle removal: A man is sitting on a roof. He");
    assertThat(item.choices()).hasSize(4).startsWith("is using wrap to wrap a pair of skis.");
    assertThat(item.gold()).isEqualTo(3);
  }

  @Test
  void piqaJsonlWithALabelFileOrLabelField() throws IOException {
    Path f = write("valid.jsonl",
        "{\"goal\": \"How do I ready a guinea pig cage?\", \"sol1\": \"Use paper.\", \"sol2\": \"Use jeans.\"}\n"
            + "{\"goal\": \"dresser\", \"sol1\": \"replace drawer with bobby pin \", \"sol2\": \"finish\"}\n");
    Path labels = write("valid-labels.lst", "0\n1\n");
    List<MultipleChoiceItem> items = TaskLoaders.piqaJsonl(f, labels);
    assertThat(items).extracting(MultipleChoiceItem::gold).containsExactly(0, 1);
    assertThat(items.get(0).contexts()).containsExactly("Question: How do I ready a guinea pig cage?\nAnswer:");
    assertThat(items.get(1).choices()).containsExactly("replace drawer with bobby pin ", "finish");

    Path hf = write("hf.jsonl", "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 1}\n");
    assertThat(TaskLoaders.piqaJsonl(hf, null).get(0).gold()).isEqualTo(1);

    Path short1 = write("short.lst", "0\n");
    assertThatThrownBy(() -> TaskLoaders.piqaJsonl(f, short1))
        .isInstanceOf(TaskFormatException.class).hasMessageContaining("1 labels for 2 items");
  }

  @Test
  void winograndeJsonl() throws IOException {
    Path f = write("dev.jsonl",
        "{\"qID\": \"3QHITW7OYO7Q6B6ISU2UMJB84ZLAQE-2\", \"sentence\": \"Ian volunteered to eat Dennis's menudo after already having a bowl because _ despised eating intestine.\","
            + " \"option1\": \"Ian\", \"option2\": \"Dennis\", \"answer\": \"2\"}\n");
    MultipleChoiceItem item = TaskLoaders.winograndeJsonl(f).get(0);
    assertThat(item.id()).isEqualTo("3QHITW7OYO7Q6B6ISU2UMJB84ZLAQE-2");
    assertThat(item.contexts()).containsExactly(
        "Ian volunteered to eat Dennis's menudo after already having a bowl because Ian",
        "Ian volunteered to eat Dennis's menudo after already having a bowl because Dennis");
    assertThat(item.choices()).containsExactly("despised eating intestine.");
    assertThat(item.gold()).isEqualTo(1);
  }

  @Test
  void boolqJsonlSuperGlueAndOriginal() throws IOException {
    Path superGlue = write("val.jsonl",
        "{\"question\": \"does ethanol take more energy make that produces\", \"passage\": \"Ethanol fuel -- ...\", \"idx\": 0, \"label\": false}\n");
    MultipleChoiceItem a = TaskLoaders.boolqJsonl(superGlue).get(0);
    assertThat(a.contexts()).containsExactly(
        "Ethanol fuel -- ...\nQuestion: does ethanol take more energy make that produces?\nAnswer:");
    assertThat(a.gold()).isZero();
    Path original = write("dev.jsonl",
        "{\"question\": \"is house tax and property tax are same\", \"title\": \"Property tax\", \"answer\": true, \"passage\": \"Property tax or house tax ...\"}\n");
    assertThat(TaskLoaders.boolqJsonl(original).get(0).gold()).isEqualTo(1);
  }

  @Test
  void arcJsonlWithDigitLabels() throws IOException {
    Path f = write("arc.jsonl",
        "{\"id\":\"NYSEDREGENTS_2015_4_8\",\"question\":{\"stem\":\"Which is a solid?\",\"choices\":"
            + "[{\"text\":\"milk\",\"label\":\"1\"},{\"text\":\"ice\",\"label\":\"2\"},{\"text\":\"steam\",\"label\":\"3\"}]},\"answerKey\":\"2\"}\n");
    MultipleChoiceItem item = TaskLoaders.arcJsonl(f).get(0);
    assertThat(item.contexts()).containsExactly("Question: Which is a solid?\nAnswer:");
    assertThat(item.choices()).containsExactly("milk", "ice", "steam");
    assertThat(item.gold()).isEqualTo(1);
  }

  @Test
  void errorsNameFileLocationAndField() throws IOException {
    Path arc = write("bad-arc.jsonl",
        "{\"id\":\"x\",\"question\":{\"stem\":\"Q\",\"choices\":[{\"text\":\"a\",\"label\":\"A\"},{\"text\":\"b\",\"label\":\"B\"}]},\"answerKey\":\"A\"}\n"
            + "{\"id\":\"y\",\"question\":{\"stem\":\"Q\",\"choices\":[{\"text\":\"a\",\"label\":\"A\"}]},\"answerKey\":\"E\"}\n");
    assertThatThrownBy(() -> TaskLoaders.arcJsonl(arc))
        .isInstanceOfSatisfying(TaskFormatException.class, e -> {
          assertThat(e.file()).isEqualTo(arc);
          assertThat(e.location()).isEqualTo("line 2");
          assertThat(e.field()).isEqualTo("answerKey");
        });

    Path wino = write("bad-wino.jsonl", "{\"sentence\": \"no blank\", \"option1\": \"a\", \"option2\": \"b\", \"answer\": \"1\"}\n");
    assertThatThrownBy(() -> TaskLoaders.winograndeJsonl(wino))
        .isInstanceOfSatisfying(TaskFormatException.class, e -> assertThat(e.field()).isEqualTo("sentence"));

    Path broken = write("broken.jsonl", "{\"goal\": \"g\", \"sol1\": ");
    assertThatThrownBy(() -> TaskLoaders.piqaJsonl(broken, null))
        .isInstanceOf(TaskFormatException.class).hasMessageContaining("line 1").hasMessageContaining("malformed JSON");

    Path adapters = write("adapters.json",
        "[{\"instruction\": \"Please choose the correct solution to the question: g\\n\\nSolution1: a\\n\\nSolution2: b\\n\\nAnswer format: solution1/solution2\","
            + " \"input\": \"\", \"output\": \"\", \"answer\": \"solution3\"}]");
    assertThatThrownBy(() -> TaskLoaders.llmAdapters(adapters, ZeroShotTask.PIQA))
        .isInstanceOfSatisfying(TaskFormatException.class, e -> {
          assertThat(e.location()).isEqualTo("item 0");
          assertThat(e.field()).isEqualTo("answer");
        });
    assertThatThrownBy(() -> TaskLoaders.llmAdapters(adapters, ZeroShotTask.BOOLQ))
        .isInstanceOfSatisfying(TaskFormatException.class, e -> assertThat(e.field()).isEqualTo("instruction"));

    Path tsv = write("obqa.tsv", "ID\tQuestion Stem\tChoices\tComplete Question\tAnswer Key\n1\tStem\t(A) x (B) y\tStem (A) x (B) y\tC\n");
    assertThatThrownBy(() -> TaskLoaders.openBookQaTsv(tsv))
        .isInstanceOfSatisfying(TaskFormatException.class, e -> {
          assertThat(e.location()).isEqualTo("line 2");
          assertThat(e.field()).isEqualTo("Answer Key");
        });

    Path labels = write("labels.lst", "1\nx\n");
    assertThatThrownBy(() -> TaskLoaders.labels(labels))
        .isInstanceOfSatisfying(TaskFormatException.class, e -> assertThat(e.location()).isEqualTo("line 2"));

    assertThatThrownBy(() -> TaskLoaders.arcJsonl(dir.resolve("missing.jsonl")))
        .isInstanceOf(TaskFormatException.class).hasMessageContaining("cannot be read");
  }
}
