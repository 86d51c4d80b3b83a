package org.rankadaptor.dl4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rankadaptor.Evaluation;
import org.rankadaptor.dl4j.testing.ByteTokenizer;

class ZeroShotEvaluatorTest {

  private static final ByteTokenizer TOKENIZER = new ByteTokenizer();

  /** Scores each (context, continuation) pair from a table, recording the batches it was sent. */
  private static final class TableScorer implements ContinuationScorer {
    final Map<String, Double> table = new HashMap<>();
    final List<Integer> batchSizes = new ArrayList<>();

    TableScorer put(String context, String continuation, double logLikelihood) {
      table.put(context + "|" + continuation, logLikelihood);
      return this;
    }

    @Override
    public double[] logLikelihoods(List<ScoringRequest> requests) {
      batchSizes.add(requests.size());
      double[] out = new double[requests.size()];
      for (int i = 0; i < out.length; i++) {
        String key = TOKENIZER.decode(requests.get(i).context()) + "|" + TOKENIZER.decode(requests.get(i).continuation());
        Double v = table.get(key);
        if (v == null) {
          throw new AssertionError("unexpected request " + key);
        }
        out[i] = v;
      }
      return out;
    }
  }

  private static ZeroShotEvaluator<TableScorer> evaluator(ZeroShotTask task, List<MultipleChoiceItem> items) {
    return ZeroShotEvaluator.<TableScorer>builder(task, items, TOKENIZER, s -> s).build();
  }

  @Test
  void accAndAccNormDifferWhenLengthsDiffer() {
    // "a" scores -2 (per character -2), "bbbb" scores -4 (per character -1): acc picks option 0,
    // acc_norm option 1.
    MultipleChoiceItem item = MultipleChoiceItem.ofChoices("q", "Q", List.of("a", "bbbb"), 1);
    TableScorer scorer = new TableScorer().put("Q", " a", -2.0).put("Q", " bbbb", -4.0);

    Evaluation arcC = evaluator(ZeroShotTask.ARC_CHALLENGE, List.of(item)).evaluate(scorer);
    assertThat(arcC.metrics()).containsEntry("acc", 0.0).containsEntry("acc_norm", 1.0).containsEntry("items", 1.0);
    assertThat(arcC.score()).isEqualTo(1.0); // ARC-Challenge reports acc_norm

    Evaluation arcE = evaluator(ZeroShotTask.ARC_EASY, List.of(item)).evaluate(scorer);
    assertThat(arcE.score()).isEqualTo(0.0); // ARC-Easy reports acc
  }

  @Test
  void accuracyAveragesOverItemsAndReportsTheHarnessStandardError() {
    List<MultipleChoiceItem> items = List.of(
        MultipleChoiceItem.ofChoices("0", "A", List.of("x", "y"), 0),
        MultipleChoiceItem.ofChoices("1", "B", List.of("x", "y"), 0),
        MultipleChoiceItem.ofChoices("2", "C", List.of("x", "y"), 1),
        MultipleChoiceItem.ofChoices("3", "D", List.of("x", "y"), 1));
    TableScorer scorer = new TableScorer()
        .put("A", " x", -1).put("A", " y", -3) // right
        .put("B", " x", -5).put("B", " y", -3) // wrong
        .put("C", " x", -5).put("C", " y", -0.5) // right
        .put("D", " x", -0.1).put("D", " y", -0.2); // wrong
    Evaluation e = evaluator(ZeroShotTask.PIQA, items).evaluate(scorer);
    assertThat(e.score()).isEqualTo(0.5);
    assertThat(e.metrics().get("acc_stderr")).isCloseTo(Math.sqrt(0.25 / 3), within(1e-12));
  }

  @Test
  void tiesGoToTheFirstOptionAsNumpyArgmax() {
    MultipleChoiceItem first = MultipleChoiceItem.ofChoices("t", "T", List.of("ab", "cd", "ef"), 0);
    MultipleChoiceItem second = MultipleChoiceItem.ofChoices("u", "U", List.of("ab", "cd", "ef"), 1);
    TableScorer scorer = new TableScorer()
        .put("T", " ab", -3).put("T", " cd", -3).put("T", " ef", -3)
        .put("U", " ab", -3).put("U", " cd", -3).put("U", " ef", -3);
    Evaluation e = evaluator(ZeroShotTask.HELLASWAG, List.of(first, second)).evaluate(scorer);
    assertThat(e.metrics()).containsEntry("acc", 0.5).containsEntry("acc_norm", 0.5);
    assertThat(ZeroShotEvaluator.argmax(new double[] {-1, -0.5, -0.5})).isEqualTo(1);
  }

  @Test
  void winograndeScoresTheSharedContinuationGivenEachContext() {
    MultipleChoiceItem item =
        LmEvalPrompts.winogrande("w", "The trophy did not fit in the suitcase because _ was too big.", "the trophy", "the suitcase", 0);
    ZeroShotEvaluator<TableScorer> ev = evaluator(ZeroShotTask.WINOGRANDE, List.of(item));
    assertThat(ev.requests()).hasSize(2);
    assertThat(TOKENIZER.decode(ev.requests().get(0).context()))
        .isEqualTo("The trophy did not fit in the suitcase because the trophy");
    assertThat(TOKENIZER.decode(ev.requests().get(1).context()))
        .isEqualTo("The trophy did not fit in the suitcase because the suitcase");
    assertThat(TOKENIZER.decode(ev.requests().get(0).continuation())).isEqualTo(" was too big.");
    assertThat(ev.requests().get(1).continuation()).isEqualTo(ev.requests().get(0).continuation());

    TableScorer scorer = new TableScorer()
        .put("The trophy did not fit in the suitcase because the trophy", " was too big.", -4)
        .put("The trophy did not fit in the suitcase because the suitcase", " was too big.", -6);
    assertThat(ev.evaluate(scorer).score()).isEqualTo(1.0);
    assertThat(ev.evaluate(scorer).metrics()).as("the harness defines no acc_norm for WinoGrande")
        .containsOnlyKeys("acc", "items");
    scorer.put("The trophy did not fit in the suitcase because the suitcase", " was too big.", -3);
    assertThat(ev.evaluate(scorer).score()).isEqualTo(0.0);
  }

  @Test
  void requestsHaveNoBosAndTheContinuationStartsWithASpace() {
    MultipleChoiceItem item = MultipleChoiceItem.ofChoices("q", "Question: why?\nAnswer:", List.of("yes", "no"), 0);
    ScoringRequest r = evaluator(ZeroShotTask.BOOLQ, List.of(item)).requests().get(0);
    assertThat(r.context()).isEqualTo(TOKENIZER.encode("Question: why?\nAnswer:", false, false));
    assertThat(r.continuation()).isEqualTo(TOKENIZER.encode(" yes", false, false));
  }

  @Test
  void jointEncodingMovesTrailingContextWhitespaceToTheContinuation() {
    MultipleChoiceItem item = MultipleChoiceItem.ofChoices("q", "Q: ", List.of("x", "y"), 0);
    ScoringRequest separate = evaluator(ZeroShotTask.OPENBOOKQA, List.of(item)).requests().get(0);
    ScoringRequest joint = ZeroShotEvaluator.<TableScorer>builder(ZeroShotTask.OPENBOOKQA, List.of(item), TOKENIZER, s -> s)
        .encoding(ZeroShotEvaluator.ContinuationEncoding.JOINT).build().requests().get(0);
    assertThat(TOKENIZER.decode(separate.context())).isEqualTo("Q: ");
    assertThat(TOKENIZER.decode(separate.continuation())).isEqualTo(" x");
    assertThat(TOKENIZER.decode(joint.context())).isEqualTo("Q:");
    assertThat(TOKENIZER.decode(joint.continuation())).isEqualTo("  x");
  }

  @Test
  void requestsGoToTheScorerInBatches() {
    List<MultipleChoiceItem> items = new ArrayList<>();
    TableScorer scorer = new TableScorer();
    for (int i = 0; i < 3; i++) { // 3 items x 3 options = 9 requests
      items.add(MultipleChoiceItem.ofChoices(Integer.toString(i), "c" + i, List.of("a", "b", "c"), 0));
      for (String c : List.of("a", "b", "c")) {
        scorer.put("c" + i, " " + c, -1);
      }
    }
    ZeroShotEvaluator.<TableScorer>builder(ZeroShotTask.ARC_EASY, items, TOKENIZER, s -> s).batchSize(4).build()
        .evaluate(scorer);
    assertThat(scorer.batchSizes).containsExactly(4, 4, 1);
  }

  @Test
  void evaluatesAModelThroughItsScorer() {
    MultipleChoiceItem item = MultipleChoiceItem.ofChoices("q", "Q", List.of("a", "b"), 1);
    TableScorer scorer = new TableScorer().put("Q", " a", -2).put("Q", " b", -1);
    record Model(TableScorer scorer) {}
    ZeroShotEvaluator<Model> ev = ZeroShotEvaluator.<Model>builder(ZeroShotTask.PIQA, List.of(item), TOKENIZER, Model::scorer)
        .taskId("piqa-mini").build();
    assertThat(ev.taskId()).isEqualTo("piqa-mini");
    assertThat(ev.evaluate(new Model(scorer)).score()).isEqualTo(1.0);
  }

  @Test
  void seededSubsetsAreReproducibleAndChangeTheFingerprint() {
    List<MultipleChoiceItem> items = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      items.add(MultipleChoiceItem.ofChoices(Integer.toString(i), "c" + i, List.of("a", "b"), i % 2));
    }
    var a = ZeroShotEvaluator.<TableScorer>builder(ZeroShotTask.PIQA, items, TOKENIZER, s -> s).subset(10, 7).build();
    var b = ZeroShotEvaluator.<TableScorer>builder(ZeroShotTask.PIQA, items, TOKENIZER, s -> s).subset(10, 7).build();
    var c = ZeroShotEvaluator.<TableScorer>builder(ZeroShotTask.PIQA, items, TOKENIZER, s -> s).subset(10, 8).build();
    var all = ZeroShotEvaluator.<TableScorer>builder(ZeroShotTask.PIQA, items, TOKENIZER, s -> s).build();
    assertThat(a.items()).hasSize(10).isEqualTo(b.items()).isNotEqualTo(c.items());
    assertThat(a.items()).isSortedAccordingTo((x, y) -> Integer.compare(Integer.parseInt(x.id()), Integer.parseInt(y.id())));
    assertThat(all.items()).hasSize(50);
    assertThat(a.fingerprint()).isEqualTo(b.fingerprint()).isNotEqualTo(c.fingerprint()).isNotEqualTo(all.fingerprint());
    assertThat(a.fingerprint()).hasSize(64);
  }

  @Test
  void aScorerReturningTheWrongNumberOfValuesIsReported() {
    MultipleChoiceItem item = MultipleChoiceItem.ofChoices("q", "Q", List.of("a", "b"), 1);
    var ev = evaluator(ZeroShotTask.PIQA, List.of(item));
    assertThatThrownBy(() -> ev.evaluate(requests -> new double[1]))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("1 values for 2 requests");
    assertThatThrownBy(() -> ev.evaluate(requests -> new double[] {Double.NaN, -1}))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("item q");
  }
}
