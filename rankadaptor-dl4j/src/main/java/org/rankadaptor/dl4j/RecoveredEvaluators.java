package org.rankadaptor.dl4j;

import java.util.List;
import org.rankadaptor.dl4j.eval.LlamaScoring;
import org.rankadaptor.dl4j.eval.MultipleChoiceItem;
import org.rankadaptor.dl4j.eval.PerplexityEvaluator;
import org.rankadaptor.dl4j.eval.ZeroShotEvaluator;
import org.rankadaptor.dl4j.eval.ZeroShotTask;
import org.rankadaptor.dl4j.io.Tokenizer;
import org.rankadaptor.dl4j.recover.AlpacaData;
import org.rankadaptor.dl4j.recover.RecoveredModel;

/**
 * Evaluators of a {@link RecoveredModel} (the pruned model with its trained adapters), for the target and
 * source tasks of a {@link PrunedModelSearch}.
 *
 * @since 0.1.0
 */
public final class RecoveredEvaluators {

  /** Sequences per forward pass when scoring. */
  private static final int SCORING_BATCH = 8;

  /** Tokens encoded beyond a cap, so that the text cut cannot change the tokens kept. */
  static final int PREFIX_MARGIN_TOKENS = 64;

  private RecoveredEvaluators() {}

  /** The model with its adapters, seen as a scorer. */
  public static LlamaScoring scoring(RecoveredModel recovered) {
    return new LlamaScoring(recovered.model(), recovered.adapters(), SCORING_BATCH);
  }

  /**
   * Perplexity of a text (score {@code -log ppl}), to be configured and built:
   * {@code perplexity("wikitext2", text, tokenizer).window(128).maxTokens(4096).build()}.
   */
  public static PerplexityTask perplexity(String taskId, String text, Tokenizer tokenizer) {
    return new PerplexityTask(taskId, text, tokenizer);
  }

  /**
   * Settings of a perplexity evaluation of recovered models, named so that the two counts cannot be
   * swapped.
   *
   * @since 0.1.0
   */
  public static final class PerplexityTask {
    private final String taskId;
    private final String text;
    private final Tokenizer tokenizer;
    private int window = 128;
    private int maxTokens; // 0: the whole text

    private PerplexityTask(String taskId, String text, Tokenizer tokenizer) {
      this.taskId = java.util.Objects.requireNonNull(taskId, "taskId");
      this.text = java.util.Objects.requireNonNull(text, "text");
      this.tokenizer = java.util.Objects.requireNonNull(tokenizer, "tokenizer");
    }

    /** Tokens per window, scored with stride {@code window - 1} (default 128). */
    public PerplexityTask window(int tokens) {
      if (tokens < 2) {
        throw new IllegalArgumentException("a perplexity window needs at least 2 tokens, got " + tokens);
      }
      this.window = tokens;
      return this;
    }

    /**
     * Tokens scored at most (default: the whole text), for a cheaper estimate inside a search. Only a
     * prefix of the text is encoded then: one long enough to hold the cap plus a margin of
     * {@value RecoveredEvaluators#PREFIX_MARGIN_TOKENS} tokens, so that the tokens kept are those of the
     * whole text while the encoding (quadratic in length for llama2.c tokenizers) stays short.
     */
    public PerplexityTask maxTokens(int tokens) {
      if (tokens < 0) {
        throw new IllegalArgumentException("max tokens must not be negative, got " + tokens);
      }
      this.maxTokens = tokens;
      return this;
    }

    /** The evaluator. */
    public PerplexityEvaluator<RecoveredModel> build() {
      int[] tokens = maxTokens > 0 ? encodePrefix(text, tokenizer, maxTokens) : tokenizer.encode(text, true, false);
      PerplexityEvaluator.Builder<RecoveredModel> b =
          PerplexityEvaluator.<RecoveredModel>builder(taskId, tokens, RecoveredEvaluators::scoring)
              .window(window, window - 1);
      if (maxTokens > 0) {
        b.maxTokens(maxTokens);
      }
      return b.build();
    }
  }

  /** The encoding (with BOS) of the shortest doubling prefix that yields {@code maxTokens} plus the margin. */
  static int[] encodePrefix(String text, Tokenizer tokenizer, int maxTokens) {
    long wanted = (long) maxTokens + PREFIX_MARGIN_TOKENS;
    int chars = (int) Math.min(text.length(), Math.max(256, wanted * 4));
    while (true) {
      int end = chars < text.length() && Character.isHighSurrogate(text.charAt(chars - 1)) ? chars - 1 : chars;
      int[] tokens = tokenizer.encode(text.substring(0, end), true, false);
      if (tokens.length >= wanted || chars == text.length()) {
        return tokens;
      }
      chars = (int) Math.min(text.length(), 2L * chars);
    }
  }

  /**
   * Zero-shot accuracy on a task's items (the task's reported metric).
   *
   * @param subset items evaluated, drawn by {@code seed} (0: all)
   */
  public static ZeroShotEvaluator<RecoveredModel> zeroShot(
      ZeroShotTask task, List<MultipleChoiceItem> items, Tokenizer tokenizer, int subset, long seed) {
    ZeroShotEvaluator.Builder<RecoveredModel> b =
        ZeroShotEvaluator.<RecoveredModel>builder(task, items, tokenizer, RecoveredEvaluators::scoring);
    if (subset > 0) {
      b.subset(subset, seed);
    }
    return b.build();
  }

  /** Alpaca records as plain text: each record's prompt and response, records separated by a blank line. */
  public static String alpacaText(List<AlpacaData.Record> records) {
    StringBuilder sb = new StringBuilder();
    for (AlpacaData.Record r : records) {
      if (sb.length() > 0) {
        sb.append("\n\n");
      }
      sb.append(AlpacaData.prompt(r.instruction(), r.input())).append(r.output());
    }
    return sb.toString();
  }
}
