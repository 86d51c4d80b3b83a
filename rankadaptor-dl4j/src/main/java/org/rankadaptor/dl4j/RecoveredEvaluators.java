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
 */
public final class RecoveredEvaluators {

  /** Sequences per forward pass when scoring. */
  private static final int SCORING_BATCH = 8;

  private RecoveredEvaluators() {}

  /** The model with its adapters, seen as a scorer. */
  public static LlamaScoring scoring(RecoveredModel recovered) {
    return new LlamaScoring(recovered.model(), recovered.adapters(), SCORING_BATCH);
  }

  /**
   * Perplexity of a text (score {@code -log ppl}), windows of {@code window} tokens with stride
   * {@code window - 1}.
   *
   * @param maxTokens tokens scored at most (0: the whole text), for a cheaper estimate inside a search
   */
  public static PerplexityEvaluator<RecoveredModel> perplexity(
      String taskId, String text, Tokenizer tokenizer, int window, int maxTokens) {
    PerplexityEvaluator.Builder<RecoveredModel> b =
        PerplexityEvaluator.<RecoveredModel>builder(taskId, text, tokenizer, RecoveredEvaluators::scoring)
            .window(window, window - 1);
    if (maxTokens > 0) {
      b.maxTokens(maxTokens);
    }
    return b.build();
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
