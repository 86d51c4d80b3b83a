package org.rankadaptor.dl4j.eval;

import com.google.common.collect.ImmutableList;
import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.rankadaptor.Evaluation;
import org.rankadaptor.Evaluator;
import org.rankadaptor.dl4j.io.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Zero-shot multiple-choice accuracy with lm-evaluation-harness semantics. Each option's score is the
 * summed log-probability of its continuation given its context; {@code acc} takes the first maximum of
 * the scores (numpy's argmax), {@code acc_norm} the first maximum of score divided by the choice's
 * length in characters. The evaluation's score is the task's reported metric
 * ({@link ZeroShotTask#reportedMetric()}); the metrics map holds {@code acc}, {@code acc_norm} where the
 * harness defines it ({@link ZeroShotTask#definesNormalised()}), their standard errors and {@code items}.
 *
 * <p>Requests are tokenised once, when the evaluator is built, and sent to the model's
 * {@link ContinuationScorer} in batches. An optional seeded subset of the items makes evaluation inside
 * the search cheaper; the {@link #fingerprint()} covers the chosen items, their tokens and the settings.
 *
 * @param <M> the recovered model
 * @since 0.1.0
 */
public final class ZeroShotEvaluator<M> implements Evaluator<M> {

  private static final Logger LOG = LoggerFactory.getLogger(ZeroShotEvaluator.class);

  /** How context and continuation become tokens; it matters for tokenizers that merge across the seam. */
  public enum ContinuationEncoding {
    /**
     * Context and continuation are encoded separately (neither with BOS), as in the harness version
     * LLM-Pruner used (0.3); an empty context becomes the single token EOS.
     */
    SEPARATE,
    /**
     * Trailing whitespace of the context moves to the continuation, context + continuation is encoded
     * whole and the continuation is what follows the separately encoded context's length (harness 0.4).
     */
    JOINT
  }

  private final ZeroShotTask task;
  private final String taskId;
  private final List<MultipleChoiceItem> items;
  private final List<ScoringRequest> requests;
  private final int[] firstRequest; // (item + 1) offsets into requests
  private final int[] byLength; // request indices, longest first: the scoring order
  private final Function<? super M, ? extends ContinuationScorer> scorerOf;
  private final int batchSize;
  private final String fingerprint;

  private ZeroShotEvaluator(Builder<M> b) {
    this.task = b.task;
    this.taskId = b.taskId;
    this.scorerOf = b.scorerOf;
    this.batchSize = b.batchSize;
    this.items = select(b.items, b.subsetSize, b.subsetSeed);
    List<ScoringRequest> reqs = new ArrayList<>();
    firstRequest = new int[items.size() + 1];
    for (int i = 0; i < items.size(); i++) {
      MultipleChoiceItem item = items.get(i);
      firstRequest[i] = reqs.size();
      for (int o = 0; o < item.numOptions(); o++) {
        reqs.add(encode(b.tokenizer, b.encoding, item, o));
      }
    }
    firstRequest[items.size()] = reqs.size();
    this.requests = Collections.unmodifiableList(reqs);
    // Longest first, as the harness does: batches of similar lengths waste little on padding, and the
    // first batch shows at once whether the longest requests fit.
    this.byLength = IntStream.range(0, reqs.size()).boxed()
        .sorted(Comparator.comparingInt((Integer i) -> -(reqs.get(i).context().length + reqs.get(i).continuation().length))
            .thenComparingInt(i -> i))
        .mapToInt(Integer::intValue).toArray();
    this.fingerprint = fingerprint(b);
  }

  /**
   * Starts an evaluator.
   *
   * @param task the task, which names the reported metric and the default task id
   * @param items the task's items, such as from {@link TaskLoaders}
   * @param tokenizer the model's tokenizer
   * @param scorerOf gives the scorer of a recovered model, such as {@code model -> model::logLikelihoods}
   */
  public static <M> Builder<M> builder(
      ZeroShotTask task,
      List<MultipleChoiceItem> items,
      Tokenizer tokenizer,
      Function<? super M, ? extends ContinuationScorer> scorerOf) {
    return new Builder<>(task, items, tokenizer, scorerOf);
  }

  @Override
  public String taskId() {
    return taskId;
  }

  @Override
  public String fingerprint() {
    return fingerprint;
  }

  /** The items evaluated (the subset, when one was asked for), in their original order. */
  public List<MultipleChoiceItem> items() {
    return items;
  }

  /** The tokenised requests, item by item and option by option. */
  public List<ScoringRequest> requests() {
    return requests;
  }

  @Override
  public Evaluation evaluate(M model) {
    return evaluate(Objects.requireNonNull(scorerOf.apply(model), "the model's scorer"));
  }

  /** Measures a scorer directly. */
  public Evaluation evaluate(ContinuationScorer scorer) {
    double[] ll = new double[requests.size()];
    for (int from = 0; from < requests.size(); from += batchSize) {
      int to = Math.min(requests.size(), from + batchSize);
      List<ScoringRequest> batch = new ArrayList<>(to - from);
      for (int i = from; i < to; i++) {
        batch.add(requests.get(byLength[i]));
      }
      double[] got = scorer.logLikelihoods(batch);
      if (got == null || got.length != to - from) {
        throw new IllegalStateException(taskId + ": the scorer returned "
            + (got == null ? "null" : got.length + " values") + " for " + (to - from) + " requests");
      }
      for (int i = from; i < to; i++) {
        ll[byLength[i]] = got[i - from];
      }
      LOG.debug("{}: scored {}/{} requests", taskId, to, requests.size());
    }
    int correct = 0;
    int correctNorm = 0;
    for (int i = 0; i < items.size(); i++) {
      MultipleChoiceItem item = items.get(i);
      int n = item.numOptions();
      double[] scores = Arrays.copyOfRange(ll, firstRequest[i], firstRequest[i] + n);
      double[] normalised = new double[n];
      for (int o = 0; o < n; o++) {
        if (Double.isNaN(scores[o]) || scores[o] > 1e-6) {
          throw new IllegalStateException(taskId + ", item " + item.id() + ", option " + o
              + ": log-likelihood " + scores[o] + " is not a log-probability");
        }
        String choice = item.choice(o);
        normalised[o] = scores[o] / choice.codePointCount(0, choice.length());
      }
      correct += argmax(scores) == item.gold() ? 1 : 0;
      correctNorm += argmax(normalised) == item.gold() ? 1 : 0;
    }
    int n = items.size();
    Map<String, Double> metrics = new TreeMap<>();
    double acc = (double) correct / n;
    double accNorm = (double) correctNorm / n;
    metrics.put(ZeroShotTask.ACC, acc);
    if (task.definesNormalised()) {
      metrics.put(ZeroShotTask.ACC_NORM, accNorm);
    }
    if (n > 1) {
      // The harness's sample standard error of a mean of 0/1 outcomes.
      metrics.put(ZeroShotTask.ACC + "_stderr", Math.sqrt(acc * (1 - acc) / (n - 1)));
      if (task.definesNormalised()) {
        metrics.put(ZeroShotTask.ACC_NORM + "_stderr", Math.sqrt(accNorm * (1 - accNorm) / (n - 1)));
      }
    }
    metrics.put("items", (double) n);
    double score = metrics.get(task.reportedMetric());
    LOG.info("{}: acc {}{} over {} items", taskId, acc, task.definesNormalised() ? " acc_norm " + accNorm : "", n);
    return new Evaluation(score, metrics);
  }

  /** Index of the first maximum, as numpy's argmax. */
  static int argmax(double[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }

  private static List<MultipleChoiceItem> select(List<MultipleChoiceItem> all, int size, long seed) {
    if (size <= 0 || size >= all.size()) {
      return ImmutableList.copyOf(all);
    }
    List<Integer> order = new ArrayList<>(IntStream.range(0, all.size()).boxed().toList());
    Collections.shuffle(order, new Random(seed));
    List<Integer> chosen = new ArrayList<>(order.subList(0, size));
    Collections.sort(chosen);
    return chosen.stream().map(all::get).collect(ImmutableList.toImmutableList());
  }

  private static ScoringRequest encode(
      Tokenizer tokenizer, ContinuationEncoding encoding, MultipleChoiceItem item, int option) {
    String context = item.context(option);
    String continuation = item.continuation(option);
    int[] contextIds;
    int[] continuationIds;
    if (encoding == ContinuationEncoding.SEPARATE || context.isEmpty()) {
      contextIds = context.isEmpty() ? new int[] {tokenizer.eosId()} : tokenizer.encode(context, false, false);
      continuationIds = tokenizer.encode(continuation, false, false);
    } else {
      String trimmed = context.stripTrailing();
      String moved = context.substring(trimmed.length());
      if (trimmed.isEmpty()) {
        contextIds = new int[] {tokenizer.eosId()};
        continuationIds = tokenizer.encode(moved + continuation, false, false);
      } else {
        int[] whole = tokenizer.encode(trimmed + moved + continuation, false, false);
        contextIds = tokenizer.encode(trimmed, false, false);
        continuationIds = Arrays.copyOfRange(whole, Math.min(contextIds.length, whole.length), whole.length);
      }
    }
    if (contextIds.length == 0 || continuationIds.length == 0) {
      throw new IllegalArgumentException("item " + item.id() + ", option " + option
          + ": the tokenizer gave " + contextIds.length + " context and " + continuationIds.length
          + " continuation tokens");
    }
    return new ScoringRequest(contextIds, continuationIds);
  }

  private String fingerprint(Builder<M> b) {
    Hasher h = Hashing.sha256().newHasher();
    putString(h, "zero-shot/1");
    putString(h, task.name());
    putString(h, b.encoding.name());
    // The items themselves identify the subset, so its size and seed need no place of their own.
    h.putInt(items.size());
    for (MultipleChoiceItem item : items) {
      putString(h, item.id());
      h.putInt(item.gold()).putInt(item.contexts().size()).putInt(item.choices().size());
      item.contexts().forEach(s -> putString(h, s));
      item.choices().forEach(s -> putString(h, s));
    }
    for (ScoringRequest r : requests) {
      h.putInt(r.context().length);
      Arrays.stream(r.context()).forEach(h::putInt);
      h.putInt(r.continuation().length);
      Arrays.stream(r.continuation()).forEach(h::putInt);
    }
    return h.hash().toString();
  }

  private static void putString(Hasher h, String s) {
    h.putInt(s.length()).putString(s, StandardCharsets.UTF_8);
  }

  /** Settings of a {@link ZeroShotEvaluator}. */
  public static final class Builder<M> {
    private final ZeroShotTask task;
    private final List<MultipleChoiceItem> items;
    private final Tokenizer tokenizer;
    private final Function<? super M, ? extends ContinuationScorer> scorerOf;
    private String taskId;
    private int batchSize = 64;
    private int subsetSize;
    private long subsetSeed;
    private ContinuationEncoding encoding = ContinuationEncoding.SEPARATE;

    private Builder(
        ZeroShotTask task,
        List<MultipleChoiceItem> items,
        Tokenizer tokenizer,
        Function<? super M, ? extends ContinuationScorer> scorerOf) {
      this.task = Objects.requireNonNull(task, "task");
      this.items = List.copyOf(items);
      this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
      this.scorerOf = Objects.requireNonNull(scorerOf, "scorerOf");
      this.taskId = task.id();
      if (this.items.isEmpty()) {
        throw new IllegalArgumentException(task.id() + ": no items to evaluate");
      }
    }

    /** The id observations are stored under; defaults to the task's id. */
    public Builder<M> taskId(String id) {
      if (id == null || id.isBlank()) {
        throw new IllegalArgumentException("a task id must not be blank");
      }
      this.taskId = id;
      return this;
    }

    /** Requests per call of the scorer; default 64. */
    public Builder<M> batchSize(int requests) {
      if (requests < 1) {
        throw new IllegalArgumentException("batch size must be at least 1, got " + requests);
      }
      this.batchSize = requests;
      return this;
    }

    /**
     * Evaluates only {@code size} items drawn without replacement by {@code seed} (all items when
     * {@code size} is at least their number).
     */
    public Builder<M> subset(int size, long seed) {
      if (size < 1) {
        throw new IllegalArgumentException("a subset needs at least 1 item, got " + size);
      }
      this.subsetSize = size;
      this.subsetSeed = seed;
      return this;
    }

    /** How requests are tokenised; default {@link ContinuationEncoding#SEPARATE}. */
    public Builder<M> encoding(ContinuationEncoding encoding) {
      this.encoding = Objects.requireNonNull(encoding, "encoding");
      return this;
    }

    /** Tokenises the items and returns the evaluator. */
    public ZeroShotEvaluator<M> build() {
      return new ZeroShotEvaluator<>(this);
    }
  }
}
