package org.rankadaptor.dl4j.eval;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.llama.ContinuationRequest;
import org.rankadaptor.dl4j.llama.ContinuationScore;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;

/**
 * A {@link LlamaModel}, optionally with LoRA adapters, seen through the evaluators' seams: {@link
 * ContinuationScorer} for zero-shot tasks and {@link TokenLogProbs} for perplexity.
 *
 * <p>Continuations are scored by {@link LlamaModel#scoreContinuations}, the project's one log-likelihood
 * primitive. Per-token log-probabilities come from {@link LlamaModel#logits}, normalised by a log-softmax
 * in float64 so that summing thousands of them loses nothing to float32 rounding. Requests are split into
 * batches whose logits stay under a fixed number of elements, so memory does not grow with the request
 * count. Immutable; as thread-safe as the model.
 *
 * @since 0.1.0
 */
public final class LlamaScoring implements ContinuationScorer, TokenLogProbs {

  /** Upper bound on logits materialised by one {@link #logProbs} batch (batch x length x vocab). */
  static final long MAX_LOGITS_PER_BATCH = 1L << 23;

  /** Logit rows converted to float64 at once, bounding the copy whatever the vocabulary. */
  static final long MAX_DOUBLES_PER_CHUNK = 1L << 20;

  private final LlamaModel model;
  private final LoraAdapters adapters;
  private final int batchSize;

  /**
   * @param model the model to score with
   * @param adapters LoRA adapters to apply, or null for the base model
   * @param batchSize most sequences per forward pass, at least 1
   */
  public LlamaScoring(LlamaModel model, LoraAdapters adapters, int batchSize) {
    Nd4jRuntime.ensureInitialized();
    this.model = Objects.requireNonNull(model, "model");
    if (adapters != null && adapters.nLayers() != model.config().nLayers()) {
      throw new IllegalArgumentException("adapters for " + adapters.nLayers() + " layers on a "
          + model.config().nLayers() + "-layer model");
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    this.adapters = adapters;
    this.batchSize = batchSize;
  }

  /** The base model with no adapters, eight sequences per forward pass. */
  public static LlamaScoring of(LlamaModel model) {
    return new LlamaScoring(model, null, 8);
  }

  @Override
  public double[] logLikelihoods(List<ScoringRequest> requests) {
    double[] result = new double[requests.size()];
    for (int from = 0; from < requests.size(); from += batchSize) {
      List<ContinuationRequest> batch = new ArrayList<>();
      for (ScoringRequest r : requests.subList(from, Math.min(requests.size(), from + batchSize))) {
        checkIds(r.context(), "request " + (from + batch.size()) + " context");
        checkIds(r.continuation(), "request " + (from + batch.size()) + " continuation");
        batch.add(new ContinuationRequest(r.context(), r.continuation()));
      }
      List<ContinuationScore> scores = model.scoreContinuations(batch, adapters);
      for (int i = 0; i < scores.size(); i++) {
        result[from + i] = checked(scores.get(i).logLikelihood(), from + i);
      }
    }
    return result;
  }

  @Override
  public List<double[]> logProbs(List<int[]> windows) {
    int vocab = model.config().vocabSize();
    for (int w = 0; w < windows.size(); w++) {
      int length = windows.get(w).length;
      if (length < 2 || length > model.config().maxSeqLen()) {
        throw new IllegalArgumentException("window " + w + " has " + length
            + " tokens; it needs 2 to " + model.config().maxSeqLen());
      }
      checkIds(windows.get(w), "window " + w);
    }
    List<double[]> result = new ArrayList<>(windows.size());
    int from = 0;
    while (from < windows.size()) {
      // grow the batch while its padded logits stay within budget (always at least one window)
      int to = from + 1;
      int longest = windows.get(from).length;
      while (to < windows.size() && to - from < batchSize) {
        int candidate = Math.max(longest, windows.get(to).length);
        if ((long) (to - from + 1) * candidate * vocab > MAX_LOGITS_PER_BATCH) {
          break;
        }
        longest = candidate;
        to++;
      }
      int[][] inputs = new int[to - from][];
      for (int i = 0; i < inputs.length; i++) {
        int[] window = windows.get(from + i);
        inputs[i] = java.util.Arrays.copyOf(window, window.length - 1);
      }
      INDArray logits = model.logits(inputs, adapters); // (batch, T, vocab)
      long t = logits.size(1);
      INDArray rows = logits.reshape('c', new long[] {inputs.length * t, vocab}); // (batch * T, vocab)
      int chunkRows = (int) Math.max(1, MAX_DOUBLES_PER_CHUNK / vocab);
      for (int i = 0; i < inputs.length; i++) {
        int[] window = windows.get(from + i);
        double[] lp = new double[window.length - 1];
        for (int p0 = 0; p0 < lp.length; p0 += chunkRows) {
          int p1 = Math.min(lp.length, p0 + chunkRows);
          double[] block = Nd4j.toFlattened('c', rows.get(interval(i * t + p0, i * t + p1), all())).toDoubleVector();
          for (int pos = p0; pos < p1; pos++) {
            lp[pos] = checked(logSoftmaxAt(block, (long) (pos - p0) * vocab, vocab, window[pos + 1]), from + i);
          }
        }
        result.add(lp);
      }
      from = to;
    }
    return result;
  }

  /** log softmax(row)[target] of the row starting at {@code offset}, in float64. */
  static double logSoftmaxAt(double[] logits, long offset, int vocab, int target) {
    int start = Math.toIntExact(offset);
    double max = Double.NEGATIVE_INFINITY;
    for (int v = 0; v < vocab; v++) {
      max = Math.max(max, logits[start + v]);
    }
    double sum = 0;
    for (int v = 0; v < vocab; v++) {
      sum += Math.exp(logits[start + v] - max);
    }
    return logits[start + target] - max - Math.log(sum);
  }

  private void checkIds(int[] ids, String where) {
    int vocab = model.config().vocabSize();
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= vocab) {
        throw new IllegalArgumentException(where + ": token id " + ids[i] + " at position " + i
            + " outside the vocabulary of " + vocab);
      }
    }
  }

  private static double checked(double logProb, int index) {
    if (Double.isNaN(logProb)) {
      throw new IllegalStateException("the model produced NaN scoring request " + index);
    }
    return Math.min(logProb, 0.0);
  }
}
