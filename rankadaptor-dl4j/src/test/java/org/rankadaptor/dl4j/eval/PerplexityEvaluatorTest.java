package org.rankadaptor.dl4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.rankadaptor.Evaluation;
import org.rankadaptor.dl4j.testing.ByteTokenizer;
import org.rankadaptor.dl4j.testing.SharedFiles;

class PerplexityEvaluatorTest {

  /** Token ids equal to positions, so a window's tokens say where it lies. */
  private static int[] positions(int n) {
    return IntStream.range(0, n).toArray();
  }

  /** log p(w[i+1] | w[0..i]) = -ln(i + 2): depends only on how much context the window gave. */
  private static final TokenLogProbs BY_CONTEXT = windows -> {
    List<double[]> out = new ArrayList<>();
    for (int[] w : windows) {
      double[] lp = new double[w.length - 1];
      for (int i = 0; i < lp.length; i++) {
        lp[i] = -Math.log(i + 2);
      }
      out.add(lp);
    }
    return out;
  };

  @Test
  void slidingWindowScoresEachTokenOnceWithTheContextItsWindowAllows() {
    // 7 tokens, window 4, stride 2: [0,4) scores 1,2,3 (context 1,2,3); [2,6) scores 4,5 (context 2,3);
    // [4,7) scores 6 (context 2).
    List<PerplexityEvaluator.Window> windows = PerplexityEvaluator.windows(positions(7), 4, 2);
    assertThat(windows).hasSize(3);
    assertThat(windows.get(0).tokens()).containsExactly(0, 1, 2, 3);
    assertThat(windows.get(0).firstTarget()).isEqualTo(1);
    assertThat(windows.get(1).tokens()).containsExactly(2, 3, 4, 5);
    assertThat(windows.get(1).firstTarget()).isEqualTo(2);
    assertThat(windows.get(2).tokens()).containsExactly(4, 5, 6);
    assertThat(windows.get(2).firstTarget()).isEqualTo(2);

    Evaluation e = PerplexityEvaluator.<Object>builder("t", positions(7), m -> BY_CONTEXT).window(4, 2).build()
        .evaluate(BY_CONTEXT);
    // Context lengths 1,2,3,2,3,2 give -log p = ln 2, ln 3, ln 4, ln 3, ln 4, ln 3.
    double nll = (Math.log(2) + 3 * Math.log(3) + 2 * Math.log(4)) / 6;
    assertThat(e.metrics().get("nll")).isCloseTo(nll, within(1e-12));
    assertThat(e.metrics().get("ppl")).isCloseTo(Math.exp(nll), within(1e-12));
    assertThat(e.metrics().get("tokens")).isEqualTo(6.0);
    assertThat(e.score()).isCloseTo(-nll, within(1e-12));
  }

  @Test
  void everyTokenAfterTheFirstIsCountedExactlyOnceForAnyWindowAndStride() {
    for (int n = 2; n < 40; n++) {
      for (int length = 2; length < 12; length++) {
        for (int stride = 1; stride < length; stride++) {
          int[] counts = new int[n];
          for (PerplexityEvaluator.Window w : PerplexityEvaluator.windows(positions(n), length, stride)) {
            assertThat(w.tokens().length).isLessThanOrEqualTo(length);
            assertThat(w.firstTarget()).isBetween(1, w.tokens().length - 1);
            // Every target sees at least length - stride tokens of context, or all before it.
            assertThat(w.firstTarget()).isGreaterThanOrEqualTo(Math.min(length - stride, w.tokens()[0] + w.firstTarget()));
            for (int i = w.firstTarget(); i < w.tokens().length; i++) {
              counts[w.tokens()[i]]++;
            }
          }
          assertThat(counts[0]).isZero();
          for (int t = 1; t < n; t++) {
            assertThat(counts[t]).as("n %d, window %d, stride %d, token %d", n, length, stride, t).isEqualTo(1);
          }
        }
      }
    }
  }

  @Test
  void windowingDoesNotChangeAContextFreeScore() {
    // log p depends on the target alone: every windowing gives the same mean over tokens 1..n-1.
    TokenLogProbs byToken = windows -> windows.stream().map(w -> {
      double[] lp = new double[w.length - 1];
      for (int i = 0; i < lp.length; i++) {
        lp[i] = -0.01 * (w[i + 1] + 1);
      }
      return lp;
    }).toList();
    int n = 101;
    double expected = 0;
    for (int t = 1; t < n; t++) {
      expected += 0.01 * (t + 1);
    }
    expected /= n - 1;
    for (int[] ws : new int[][] {{128, 127}, {16, 15}, {16, 4}, {3, 1}}) {
      Evaluation e = PerplexityEvaluator.<Object>builder("t", positions(n), m -> byToken)
          .window(ws[0], ws[1]).batchSize(3).build().evaluate(byToken);
      assertThat(e.metrics().get("nll")).as("window %d stride %d", ws[0], ws[1]).isCloseTo(expected, within(1e-12));
      assertThat(e.metrics().get("tokens")).isEqualTo(100.0);
    }
  }

  @Test
  void textIsEncodedWithBosAndCanBeCapped() {
    var ev = PerplexityEvaluator.<Object>builder("t", "hello", new ByteTokenizer(), m -> BY_CONTEXT).build();
    assertThat(ev.scoredTokens()).isEqualTo(5); // BOS + 5 bytes, BOS never scored
    var capped = PerplexityEvaluator.<Object>builder("t", "hello", new ByteTokenizer(), m -> BY_CONTEXT).maxTokens(3).build();
    assertThat(capped.scoredTokens()).isEqualTo(2);
    assertThat(capped.fingerprint()).isNotEqualTo(ev.fingerprint()).hasSize(64);
  }

  @Test
  void aUniformModelHasThePerplexityOfItsVocabularyOnSharedText() throws java.io.IOException {
    String text = java.nio.file.Files.readString(SharedFiles.require("data/text/wikitext2/wiki.test.raw"));
    ByteTokenizer tokenizer = new ByteTokenizer();
    double uniform = -Math.log(tokenizer.vocabSize());
    TokenLogProbs model = windows -> windows.stream().map(w -> {
      double[] lp = new double[w.length - 1];
      java.util.Arrays.fill(lp, uniform);
      return lp;
    }).toList();
    var ev = PerplexityEvaluator.<Object>builder("wikitext2", text, tokenizer, m -> model)
        .window(256, 192).maxTokens(20_000).build();
    Evaluation e = ev.evaluate(model);
    assertThat(e.metrics().get("ppl")).isCloseTo(tokenizer.vocabSize(), within(1e-6));
    assertThat(e.metrics().get("tokens")).isEqualTo(19_999.0);
  }

  @Test
  void badSettingsAndBadScoresAreRejected() {
    assertThatThrownBy(() -> PerplexityEvaluator.<Object>builder("t", positions(10), m -> BY_CONTEXT).window(4, 4).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stride");
    var ev = PerplexityEvaluator.<Object>builder("t", positions(10), m -> BY_CONTEXT).window(4, 3).build();
    assertThatThrownBy(() -> ev.evaluate(windows -> windows.stream().map(w -> new double[w.length]).toList()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("expected 3");
    assertThatThrownBy(() -> ev.evaluate(windows -> windows.stream().map(w -> new double[w.length - 1]).map(a -> {
      a[0] = 0.5;
      return a;
    }).toList())).isInstanceOf(IllegalStateException.class).hasMessageContaining("not a log-probability");
  }
}
