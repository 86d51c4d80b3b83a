package org.rankadaptor.dl4j.eval;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.rankadaptor.Evaluation;
import org.rankadaptor.Evaluator;
import org.rankadaptor.dl4j.io.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Perplexity of a token sequence under a sliding window, as Hugging Face's recipe for fixed-length
 * models: windows of at most {@code windowLength} tokens start every {@code stride} tokens, and each
 * window scores only the tokens no earlier window scored, so every token after the first is counted
 * exactly once with as much left context as its window holds (at least {@code windowLength - stride}
 * tokens, all of them when the sequence fits one window). Unlike that recipe, a window's first target
 * is never dropped, which is why the stride must be smaller than the window.
 *
 * <p>score = -log(ppl) = -nll (higher is better); metrics {@code ppl}, {@code nll} (mean per token, in
 * nats) and {@code tokens} (the number of tokens scored).
 *
 * @param <M> the recovered model
 * @since 0.1.0
 */
public final class PerplexityEvaluator<M> implements Evaluator<M> {

  private static final Logger LOG = LoggerFactory.getLogger(PerplexityEvaluator.class);

  /** One window: the tokens fed, and the index within it of the first token it scores. */
  record Window(int[] tokens, int firstTarget) {}

  private final String taskId;
  private final int[] tokens;
  private final int windowLength;
  private final int stride;
  private final int batchSize;
  private final Function<? super M, ? extends TokenLogProbs> logProbsOf;
  private final List<Window> windows;
  private final String fingerprint;

  private PerplexityEvaluator(Builder<M> b) {
    this.taskId = b.taskId;
    this.tokens = b.maxTokens > 0 && b.maxTokens < b.tokens.length
        ? Arrays.copyOf(b.tokens, b.maxTokens) : b.tokens.clone();
    if (tokens.length < 2) {
      throw new IllegalArgumentException(taskId + ": perplexity needs at least two tokens, got " + tokens.length);
    }
    if (b.stride >= b.windowLength) {
      throw new IllegalArgumentException(taskId + ": the stride (" + b.stride
          + ") must be smaller than the window (" + b.windowLength + ") so that no token goes unscored");
    }
    this.windowLength = b.windowLength;
    this.stride = b.stride;
    this.batchSize = b.batchSize;
    this.logProbsOf = b.logProbsOf;
    this.windows = windows(tokens, windowLength, stride);
    this.fingerprint = hashOfTokensAndSettings();
  }

  /**
   * Starts an evaluator over a token sequence; its first token is only ever context.
   *
   * @param taskId the id observations are stored under, such as {@code wikitext2}
   * @param tokens the text's token ids, usually beginning with BOS
   * @param logProbsOf gives the per-token log-probabilities of a recovered model
   */
  public static <M> Builder<M> builder(
      String taskId, int[] tokens, Function<? super M, ? extends TokenLogProbs> logProbsOf) {
    return new Builder<>(taskId, tokens, logProbsOf);
  }

  /** Starts an evaluator over a text, encoded with BOS and without EOS. */
  public static <M> Builder<M> builder(
      String taskId, String text, Tokenizer tokenizer, Function<? super M, ? extends TokenLogProbs> logProbsOf) {
    return new Builder<>(taskId, tokenizer.encode(text, true, false), logProbsOf);
  }

  /** Windows [b, min(b + length, n)) for b = 0, stride, ..., scoring the targets no earlier window scored. */
  static List<Window> windows(int[] tokens, int length, int stride) {
    List<Window> out = new ArrayList<>();
    int scoredUpTo = 1; // token 0 has no context and is never a target
    for (int begin = 0; ; begin += stride) {
      int end = Math.min(begin + length, tokens.length);
      if (end > scoredUpTo) {
        out.add(new Window(Arrays.copyOfRange(tokens, begin, end), scoredUpTo - begin));
        scoredUpTo = end;
      }
      if (end == tokens.length) {
        return out;
      }
    }
  }

  @Override
  public String taskId() {
    return taskId;
  }

  @Override
  public String fingerprint() {
    return fingerprint;
  }

  /** Number of tokens scored: every token but the first. */
  public int scoredTokens() {
    return tokens.length - 1;
  }

  @Override
  public Evaluation evaluate(M model) {
    return evaluate(Objects.requireNonNull(logProbsOf.apply(model), "the model's log-probabilities"));
  }

  /** Measures a model's per-token log-probabilities directly. */
  public Evaluation evaluate(TokenLogProbs logProbs) {
    double nllSum = 0;
    long count = 0;
    for (int from = 0; from < windows.size(); from += batchSize) {
      List<Window> batch = windows.subList(from, Math.min(windows.size(), from + batchSize));
      List<int[]> inputs = batch.stream().map(Window::tokens).toList();
      List<double[]> got = logProbs.logProbs(inputs);
      if (got == null || got.size() != batch.size()) {
        throw new IllegalStateException(taskId + ": " + (got == null ? "null" : got.size() + " results")
            + " for " + batch.size() + " windows");
      }
      for (int w = 0; w < batch.size(); w++) {
        Window window = batch.get(w);
        double[] lp = got.get(w);
        if (lp == null || lp.length != window.tokens().length - 1) {
          throw new IllegalStateException(taskId + ": window of " + window.tokens().length + " tokens got "
              + (lp == null ? "null" : lp.length + " log-probabilities") + ", expected " + (window.tokens().length - 1));
        }
        // lp[i] is the log-probability of token i + 1.
        for (int i = window.firstTarget() - 1; i < lp.length; i++) {
          if (Double.isNaN(lp[i]) || lp[i] > 1e-6) {
            throw new IllegalStateException(taskId + ": " + lp[i] + " is not a log-probability");
          }
          nllSum -= lp[i];
          count++;
        }
      }
      LOG.debug("{}: {} of {} windows scored", taskId, from + batch.size(), windows.size());
    }
    double nll = nllSum / count;
    double ppl = Math.exp(nll);
    LOG.info("{}: perplexity {} over {} tokens", taskId, ppl, count);
    // An infinite perplexity (a zero-probability token) has no finite score; report it as a failure.
    if (!Double.isFinite(nll)) {
      throw new IllegalStateException(taskId + ": mean negative log-likelihood is " + nll);
    }
    return new Evaluation(-nll, Map.of("ppl", ppl, "nll", nll, "tokens", (double) count));
  }

  private String hashOfTokensAndSettings() {
    Hasher h = Hashing.sha256().newHasher();
    h.putInt("perplexity/1".length()).putString("perplexity/1", StandardCharsets.UTF_8);
    h.putInt(windowLength).putInt(stride).putInt(tokens.length);
    for (int t : tokens) {
      h.putInt(t);
    }
    return h.hash().toString();
  }

  /** Settings of a {@link PerplexityEvaluator}. */
  public static final class Builder<M> {
    private final String taskId;
    private final int[] tokens;
    private final Function<? super M, ? extends TokenLogProbs> logProbsOf;
    private int windowLength = 128;
    private int stride = 127;
    private int batchSize = 8;
    private int maxTokens;

    private Builder(String taskId, int[] tokens, Function<? super M, ? extends TokenLogProbs> logProbsOf) {
      if (taskId == null || taskId.isBlank()) {
        throw new IllegalArgumentException("a task id must not be blank");
      }
      this.taskId = taskId;
      this.tokens = Objects.requireNonNull(tokens, "tokens");
      this.logProbsOf = Objects.requireNonNull(logProbsOf, "logProbsOf");
    }

    /**
     * Window length and stride in tokens; default 128 and 127 (disjoint targets, each window's first
     * token being the previous window's last). The stride must be below the window length.
     */
    public Builder<M> window(int length, int stride) {
      if (length < 2 || stride < 1) {
        throw new IllegalArgumentException("window length must be at least 2 and stride at least 1, got "
            + length + " and " + stride);
      }
      this.windowLength = length;
      this.stride = stride;
      return this;
    }

    /** Windows per call of the model; default 8. */
    public Builder<M> batchSize(int windows) {
      if (windows < 1) {
        throw new IllegalArgumentException("batch size must be at least 1, got " + windows);
      }
      this.batchSize = windows;
      return this;
    }

    /** Uses only the first {@code n} tokens, for a cheaper estimate inside the search. */
    public Builder<M> maxTokens(int n) {
      if (n < 2) {
        throw new IllegalArgumentException("at least two tokens are needed, got " + n);
      }
      this.maxTokens = n;
      return this;
    }

    /** Cuts the windows and returns the evaluator. */
    public PerplexityEvaluator<M> build() {
      return new PerplexityEvaluator<>(this);
    }
  }
}
