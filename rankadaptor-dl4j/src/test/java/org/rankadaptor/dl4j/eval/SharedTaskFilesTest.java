package org.rankadaptor.dl4j.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rankadaptor.dl4j.testing.SharedFiles;

/** Every item of the shared task files parses, and gold answers agree across formats. */
class SharedTaskFilesTest {

  private static List<MultipleChoiceItem> adapters(String dir, ZeroShotTask task) {
    return TaskLoaders.llmAdapters(SharedFiles.require("data/tasks/llm_adapters_format/" + dir + "/test.json"), task);
  }

  @Test
  void theSuiteHoldsTheSixTasks() {
    Map<ZeroShotTask, List<MultipleChoiceItem>> suite =
        TaskLoaders.llmAdaptersSuite(SharedFiles.require("data/tasks/llm_adapters_format"));
    assertThat(suite).containsOnlyKeys(ZeroShotTask.BOOLQ, ZeroShotTask.PIQA, ZeroShotTask.WINOGRANDE,
        ZeroShotTask.ARC_EASY, ZeroShotTask.ARC_CHALLENGE, ZeroShotTask.OPENBOOKQA);
    assertThat(suite.values().stream().mapToInt(List::size).sum()).isEqualTo(3270 + 1838 + 1267 + 2376 + 1172 + 500);
  }

  @Test
  void boolqParsesEveryItemWithoutPassage() {
    List<MultipleChoiceItem> items = adapters("boolq", ZeroShotTask.BOOLQ);
    assertThat(items).hasSize(3270);
    MultipleChoiceItem first = items.get(0);
    assertThat(first.contexts()).containsExactly("Question: does ethanol take more energy make that produces?\nAnswer:");
    assertThat(first.choices()).containsExactly("no", "yes");
    assertThat(first.gold()).isZero(); // "false"
    assertThat(items.get(1).gold()).isEqualTo(1); // "true"
    assertThat(items.stream().filter(i -> i.gold() == 1).count()).isEqualTo(2033);
  }

  @Test
  void piqaAgreesWithTheReleasedLabels() {
    List<MultipleChoiceItem> items = adapters("piqa", ZeroShotTask.PIQA);
    int[] labels = TaskLoaders.labels(SharedFiles.require("data/tasks/piqa/dev-labels.lst"));
    assertThat(items).hasSize(1838);
    assertThat(labels).hasSize(1838);
    for (int i = 0; i < items.size(); i++) {
      assertThat(items.get(i).gold()).as("item %d", i).isEqualTo(labels[i]);
    }
    assertThat(items.get(0).contexts()).containsExactly("Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:");
    // Trailing spaces of the released solutions survive, as the harness keeps them.
    assertThat(items.get(1).choices()).containsExactly("replace drawer with bobby pin ", "finish, woodgrain with  bobby pin ");
  }

  @Test
  void winograndeAgreesWithTheReleasedLabelsAndScoresPartially() {
    List<MultipleChoiceItem> items = adapters("winogrande", ZeroShotTask.WINOGRANDE);
    int[] labels = TaskLoaders.labels(SharedFiles.require("data/tasks/winogrande/dev-labels.lst"));
    assertThat(items).hasSize(1267);
    assertThat(labels).hasSize(1267);
    for (int i = 0; i < items.size(); i++) {
      assertThat(items.get(i).gold()).as("item %d", i).isEqualTo(labels[i] - 1);
    }
    MultipleChoiceItem first = items.get(0);
    assertThat(first.contexts()).containsExactly(
        "Sarah was a much better surgeon than Maria so Sarah", "Sarah was a much better surgeon than Maria so Maria");
    assertThat(first.choices()).containsExactly("always got the easier cases.");
  }

  @Test
  void arcEasyParsesEveryItemIncludingThreeAndFiveChoices() {
    List<MultipleChoiceItem> items = adapters("ARC-Easy", ZeroShotTask.ARC_EASY);
    assertThat(items).hasSize(2376);
    assertThat(items.get(1).contexts()).containsExactly(
        "Question: Which piece of safety equipment is used to keep mold spores from entering the respiratory system?\nAnswer:");
    assertThat(items.get(1).choices()).containsExactly("safety goggles", "breathing mask", "rubber gloves", "lead apron");
    assertThat(items.get(1).gold()).isEqualTo(1);
    assertThat(items.stream().filter(i -> i.numOptions() == 3).count()).isEqualTo(7);
    assertThat(items.stream().filter(i -> i.numOptions() == 5).count()).isEqualTo(4);
  }

  @Test
  void arcChallengeAgreesWithTheArcJsonlWhereBothHaveTheQuestion() {
    List<MultipleChoiceItem> adapters = adapters("ARC-Challenge", ZeroShotTask.ARC_CHALLENGE);
    List<MultipleChoiceItem> original =
        TaskLoaders.arcJsonl(SharedFiles.require("data/tasks/arc_challenge/ARC-Challenge-Test.jsonl"));
    assertThat(adapters).hasSize(1172);
    assertThat(original).hasSize(1150);
    // Two questions occur twice with different choices, so a question is matched with its choices;
    // a wrongly cut choice would leave its item unmatched.
    Map<List<String>, MultipleChoiceItem> byQuestion = new HashMap<>();
    adapters.forEach(i -> byQuestion.put(key(i), i));
    int matched = 0;
    for (MultipleChoiceItem o : original) {
      MultipleChoiceItem a = byQuestion.get(key(o));
      if (a != null) {
        matched++;
        assertThat(a.gold()).as("question %s", o.id()).isEqualTo(o.gold());
      }
    }
    assertThat(matched).isEqualTo(1150);
  }

  private static List<String> key(MultipleChoiceItem item) {
    List<String> key = new java.util.ArrayList<>(item.contexts());
    key.addAll(item.choices());
    return key;
  }

  @Test
  void openBookQaAgreesWithTheReleaseTsv() {
    List<MultipleChoiceItem> adapters = adapters("openbookqa", ZeroShotTask.OPENBOOKQA);
    List<MultipleChoiceItem> tsv = TaskLoaders.openBookQaTsv(SharedFiles.require("data/tasks/openbookqa/test.tsv"));
    assertThat(adapters).hasSize(500);
    assertThat(tsv).hasSize(500);
    for (int i = 0; i < 500; i++) {
      assertThat(adapters.get(i).gold()).as("item %d", i).isEqualTo(tsv.get(i).gold());
      assertThat(adapters.get(i).contexts()).as("item %d", i).isEqualTo(tsv.get(i).contexts());
      assertThat(adapters.get(i).choices()).as("item %d", i).isEqualTo(tsv.get(i).choices());
    }
    assertThat(tsv.get(1).id()).isEqualTo("1129");
    assertThat(tsv.get(1).contexts()).containsExactly("There is most likely going to be fog around:");
    assertThat(tsv.get(1).choices()).containsExactly("a marsh", "a tundra", "the plains", "a desert");
  }
}
