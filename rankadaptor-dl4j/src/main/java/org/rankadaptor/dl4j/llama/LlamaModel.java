package org.rankadaptor.dl4j.llama;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;

/**
 * A LLaMA-architecture decoder (RMSNorm, RoPE on interleaved pairs, grouped-query causal attention,
 * SwiGLU MLP) with per-layer widths and optional LoRA adapters, on ND4J: the weights, the forward pass
 * (one decoder layer, {@code layer}, reads like the layer equations) and what is computed from it
 * (logits, scores, loss).
 *
 * <p>Beside it: the package-private {@code Backward}, the explicit backward pass behind {@link
 * #loraGradients} (LoRA adapters, base weights frozen, for recovery training) and {@link
 * #fullWeightGradients} (every base weight, for pruning's importance estimates); {@link LlamaGenerator},
 * generation with a KV cache and a {@code Sampler}; {@link LlamaCheckpoints}, loading and saving.
 * Sequences in a batch are padded on the right;
 * position {@code t} of every sequence has RoPE angle {@code t}. Every computation follows the weights'
 * data type (float32 in use, float64 for gradient checks). Instances are immutable; calls are not
 * synchronised with each other but share no mutable state.
 *
 * @since 0.1.0
 */
public final class LlamaModel {

  /**
   * Rows of logits materialised at once (one reused buffer of rows x vocab): bounds memory to 32 MB for a
   * 32000-token vocabulary in float32, and 256 rows ran the classifier's matrix products faster than 128.
   */
  private static final int CLASSIFIER_CHUNK_ROWS = 256;

  private final LlamaConfig config;
  private final LlamaWeights weights;
  private final DataType dtype;
  private final Map<Integer, RopeTables> ropeByHeadDim = new HashMap<>();

  /**
   * A model from its configuration and weights (query/key rows in the interleaved RoPE order).
   *
   * @throws IllegalArgumentException when a weight's shape disagrees with the configuration
   */
  public LlamaModel(LlamaConfig config, LlamaWeights weights) {
    weights.checkShapes(config);
    this.config = config;
    this.weights = weights;
    this.dtype = weights.tokenEmbedding().dataType();
    for (LayerShape shape : config.layers()) {
      ropeByHeadDim.computeIfAbsent(shape.headDim(), headDim -> RopeTables.of(config, headDim, dtype));
    }
  }

  /**
   * A model with seeded random weights of any shape, for tests and benchmarks. Projections are uniform
   * with standard deviation {@code 1/sqrt(in)}, embeddings with standard deviation 1, norm weights
   * uniform in [0.8, 1.2].
   */
  public static LlamaModel randomInit(LlamaConfig config, long seed, DataType dtype) {
    Nd4jRuntime.ensureInitialized();
    SplittableRandom random = new SplittableRandom(seed);
    int d = config.dim();
    List<LayerWeights> layers = new ArrayList<>();
    for (LayerShape s : config.layers()) {
      layers.add(
          new LayerWeights(
              norm(random, d, dtype),
              uniform(random, dtype, 1.0 / Math.sqrt(d), s.queryDim(), d),
              uniform(random, dtype, 1.0 / Math.sqrt(d), s.kvDim(), d),
              uniform(random, dtype, 1.0 / Math.sqrt(d), s.kvDim(), d),
              uniform(random, dtype, 1.0 / Math.sqrt(s.queryDim()), d, s.queryDim()),
              norm(random, d, dtype),
              uniform(random, dtype, 1.0 / Math.sqrt(d), s.hiddenDim(), d),
              uniform(random, dtype, 1.0 / Math.sqrt(d), s.hiddenDim(), d),
              uniform(random, dtype, 1.0 / Math.sqrt(s.hiddenDim()), d, s.hiddenDim())));
    }
    INDArray embedding = uniform(random, dtype, 1.0, config.vocabSize(), d);
    INDArray classifier =
        config.tiedClassifier()
            ? embedding
            : uniform(random, dtype, 1.0 / Math.sqrt(d), config.vocabSize(), d);
    return new LlamaModel(
        config, new LlamaWeights(embedding, layers, norm(random, d, dtype), classifier));
  }

  private static INDArray uniform(SplittableRandom random, DataType dtype, double std, long... shape) {
    long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    float[] values = new float[Math.toIntExact(n)];
    double bound = std * Math.sqrt(3);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) ((2 * random.nextDouble() - 1) * bound);
    }
    return Nd4j.create(values, shape, 'c').castTo(dtype);
  }

  private static INDArray norm(SplittableRandom random, int dim, DataType dtype) {
    float[] values = new float[dim];
    for (int i = 0; i < dim; i++) {
      values[i] = (float) (0.8 + 0.4 * random.nextDouble());
    }
    return Nd4j.create(values, new long[] {dim}, 'c').castTo(dtype);
  }

  /** The architecture. */
  public LlamaConfig config() {
    return config;
  }

  /** The frozen weights. */
  public LlamaWeights weights() {
    return weights;
  }

  /** The data type every computation runs in. */
  public DataType dataType() {
    return dtype;
  }

  /** The RoPE tables of layers whose heads are {@code headDim} wide. */
  RopeTables rope(int headDim) {
    return ropeByHeadDim.get(headDim);
  }

  // ================================================================== forward pass

  /** Everything one layer's backward pass needs from its forward pass. */
  record LayerTrace(
      INDArray input, // (rows, dim)
      Ops.NormOut attnNorm,
      Ops.LinearOut q,
      Ops.LinearOut k,
      Ops.LinearOut v,
      Ops.AttentionOut attention,
      Ops.LinearOut o,
      INDArray middle, // (rows, dim): residual stream after attention
      Ops.NormOut ffnNorm,
      Ops.LinearOut gate,
      Ops.LinearOut up,
      Ops.SwigluOut act,
      Ops.LinearOut down) {

    /** Frees every activation of the layer except its input, once nothing will read them again. */
    void release() {
      Ops.release(
          attnNorm.y(), attnNorm.invRms(), q.y(), k.y(), v.y(), attention.context(), attention.q(),
          attention.k(), attention.v(), attention.probs(), o.y(), middle, ffnNorm.y(),
          ffnNorm.invRms(), gate.y(), up.y(), act.a(), act.sigmoid(), down.y());
      for (Ops.LinearOut linear : new Ops.LinearOut[] {q, k, v, o, gate, up, down}) {
        Ops.release(linear.loraInput(), linear.loraHidden(), linear.dropoutScale());
      }
    }
  }

  /**
   * Per-call state of a forward pass: geometry, adapters and optional dropout stream. Query {@code i}
   * (position {@code offset + i}) of sequence {@code b} reads keys {@code j <= offset + i} with {@code j <
   * keyLengths[b]}.
   */
  record Pass(
      int batch,
      int t,
      int offset,
      int[] keyLengths,
      LoraAdapters adapters,
      Random dropoutRandom) {

    LoraAdapter lora(int layer, LoraTarget target) {
      return adapters == null ? null : adapters.get(layer, target);
    }
  }

  private Ops.LinearOut project(INDArray x, int layer, LoraTarget target, Pass pass) {
    LoraAdapter lora = pass.lora(layer, target);
    INDArray dropout = null;
    if (lora != null && pass.dropoutRandom() != null && pass.adapters().dropout() > 0) {
      double p = pass.adapters().dropout();
      INDArray uniform = Nd4j.createUninitialized(dtype, x.shape());
      Nd4j.rand(uniform, pass.dropoutRandom());
      dropout = uniform.gte(p).castTo(dtype).muli(1.0 / (1.0 - p));
    }
    return Ops.linear(x, weights.layers().get(layer).projection(target), lora, dropout);
  }

  /** One decoder layer: h + attn(norm(h)), then + mlp(norm(.)). Mirrors the LLaMA equations. */
  private LayerTrace layer(int l, INDArray h, Pass pass, KvCache cache) {
    LayerWeights w = weights.layers().get(l);
    LayerShape s = config.layer(l);
    RopeTables rope = rope(s.headDim());
    int b = pass.batch();
    int t = pass.t();

    Ops.NormOut n1 = Ops.rmsNorm(h, w.attnNorm(), config.normEps());
    Ops.LinearOut q = project(n1.y(), l, LoraTarget.Q, pass);
    Ops.LinearOut k = project(n1.y(), l, LoraTarget.K, pass);
    Ops.LinearOut v = project(n1.y(), l, LoraTarget.V, pass);
    INDArray qRot = Ops.rope(q.y(), b, t, s.nHeads(), s.headDim(), pass.offset(), rope.cos(), rope.sin());
    INDArray kRot =
        Ops.rope(k.y(), b, t, s.nKvHeads(), s.headDim(), pass.offset(), rope.cos(), rope.sin());
    INDArray keys = kRot;
    INDArray values = v.y();
    int keyCount = t;
    INDArray cachedKeys = null;
    INDArray cachedValues = null;
    if (cache != null) {
      keyCount = pass.offset() + t;
      int kvDim = s.kvDim();
      cache.keys()[l].get(all(), interval(pass.offset(), keyCount), all()).assign(kRot.reshape(b, t, kvDim));
      cache.values()[l].get(all(), interval(pass.offset(), keyCount), all()).assign(v.y().reshape(b, t, kvDim));
      // Rows batch-major, as attention reads keys: a copy of the cache's first keyCount positions,
      // released as soon as attention has read it (attention keeps copies of its own).
      cachedKeys = cache.keys()[l].get(all(), interval(0, keyCount), all()).dup('c');
      cachedValues = cache.values()[l].get(all(), interval(0, keyCount), all()).dup('c');
      keys = cachedKeys.reshape(b * keyCount, kvDim);
      values = cachedValues.reshape(b * keyCount, kvDim);
    }
    Ops.AttentionShape geometry =
        new Ops.AttentionShape(b, t, keyCount, s.nHeads(), s.nKvHeads(), s.headDim());
    Ops.AttentionOut attention = Ops.attention(qRot, keys, values, pass.keyLengths(), pass.offset(), geometry);
    Ops.release(qRot, kRot, cachedKeys, cachedValues);
    Ops.LinearOut o = project(attention.context(), l, LoraTarget.O, pass);
    INDArray middle = h.add(o.y());

    Ops.NormOut n2 = Ops.rmsNorm(middle, w.ffnNorm(), config.normEps());
    Ops.LinearOut gate = project(n2.y(), l, LoraTarget.GATE, pass);
    Ops.LinearOut up = project(n2.y(), l, LoraTarget.UP, pass);
    Ops.SwigluOut act = Ops.swiglu(gate.y(), up.y());
    Ops.LinearOut down = project(act.a(), l, LoraTarget.DOWN, pass);
    return new LayerTrace(h, n1, q, k, v, attention, o, middle, n2, gate, up, act, down);
  }

  private static INDArray output(LayerTrace trace) {
    return trace.middle().add(trace.down().y());
  }

  /** Runs the decoder; returns the final-norm input and fills {@code traces} when not null. */
  INDArray decoder(INDArray embedded, Pass pass, List<LayerTrace> traces, KvCache cache) {
    INDArray h = embedded;
    for (int l = 0; l < config.nLayers(); l++) {
      LayerTrace trace = layer(l, h, pass, cache);
      INDArray next = output(trace);
      if (traces != null) {
        traces.add(trace);
      } else {
        // Without a backward pass to come, the layer's activations and input are garbage now.
        trace.release();
        Ops.release(h);
      }
      h = next;
    }
    return h;
  }

  INDArray embed(int[] ids) {
    return Nd4j.pullRows(weights.tokenEmbedding(), 1, ids);
  }

  Pass pass(Padded p, LoraAdapters adapters, Random dropoutRandom) {
    checkAdapters(adapters);
    return new Pass(p.batch(), p.t(), 0, p.lengths(), adapters, dropoutRandom);
  }

  void checkAdapters(LoraAdapters adapters) {
    if (adapters != null && adapters.nLayers() != config.nLayers()) {
      throw new IllegalArgumentException(
          "adapters for " + adapters.nLayers() + " layers on a " + config.nLayers() + "-layer model");
    }
  }

  // ================================================================== what the forward pass yields

  /**
   * Next-token logits of every position, (batch, T, vocab) with T the longest sequence; positions past
   * a sequence's end hold padding values.
   *
   * @param adapters LoRA adapters to apply, or null for the base model
   */
  public INDArray logits(int[][] sequences, LoraAdapters adapters) {
    Padded p = Padded.of(sequences, config);
    INDArray h = decoder(embed(p.ids()), pass(p, adapters, null), null, null);
    INDArray hf = Ops.rmsNorm(h, weights.finalNorm(), config.normEps()).y();
    return Nd4j.gemm(hf, weights.classifier(), false, true)
        .reshape('c', p.batch(), p.t(), config.vocabSize());
  }

  /**
   * Log-likelihood of each continuation given its context, in one batched forward pass. As in
   * lm-evaluation-harness, the model reads {@code (context + continuation)} without its last token,
   * dropping tokens from the left when that exceeds {@code maxSeqLen}.
   *
   * @param adapters LoRA adapters to apply, or null for the base model
   */
  public List<ContinuationScore> scoreContinuations(
      List<ContinuationRequest> requests, LoraAdapters adapters) {
    if (requests.isEmpty()) {
      return List.of();
    }
    int[][] inputs = new int[requests.size()][];
    int[][] targets = new int[requests.size()][];
    for (int r = 0; r < requests.size(); r++) {
      ContinuationRequest request = requests.get(r);
      int contextLength = request.context().length;
      int total = contextLength + request.continuation().length;
      int[] full = Arrays.copyOf(request.context(), total);
      System.arraycopy(request.continuation(), 0, full, contextLength, request.continuation().length);
      int start = Math.max(0, total - 1 - config.maxSeqLen());
      inputs[r] = Arrays.copyOfRange(full, start, total - 1);
      targets[r] = new int[inputs[r].length];
      for (int j = 0; j < inputs[r].length; j++) {
        int predicted = start + j + 1;
        targets[r][j] = predicted >= contextLength ? full[predicted] : -1;
      }
    }
    Padded p = Padded.of(inputs, config);
    int[] rowTargets = new int[p.rows()];
    Arrays.fill(rowTargets, -1);
    for (int b = 0; b < p.batch(); b++) {
      System.arraycopy(targets[b], 0, rowTargets, b * p.t(), targets[b].length);
    }
    INDArray h = decoder(embed(p.ids()), pass(p, adapters, null), null, null);
    INDArray hf = Ops.rmsNorm(h, weights.finalNorm(), config.normEps()).y();
    double[] logLikelihood = new double[p.batch()];
    boolean[] greedy = new boolean[p.batch()];
    Arrays.fill(greedy, true);
    classifierChunks(
        hf,
        rowTargets,
        Padded.targetRows(rowTargets),
        null,
        (first, rows, hidden, scores, dLogits) -> {
          for (int i = 0; i < rows.length; i++) {
            logLikelihood[rows[i] / p.t()] += scores.targetLogProb()[i];
            greedy[rows[i] / p.t()] &= scores.greedy()[i];
          }
        });
    List<ContinuationScore> result = new ArrayList<>(p.batch());
    for (int b = 0; b < p.batch(); b++) {
      result.add(new ContinuationScore(logLikelihood[b], greedy[b]));
    }
    return result;
  }

  interface ChunkConsumer {
    /**
     * @param first index of the block's first row among the target rows
     * @param rows the batch rows of this block, in order
     * @param hidden (rows.length, dim): the final-norm outputs of those rows
     * @param dLogits the block's loss gradient, or null when only scoring
     */
    void accept(int first, int[] rows, INDArray hidden, Ops.RowScores scores, INDArray dLogits);
  }

  /**
   * Runs the classifier only on the target rows, gathered once into a compact matrix, in blocks of
   * {@link #CLASSIFIER_CHUNK_ROWS}, so that (rows, vocab) logits never exist at once and context
   * positions of a scoring request cost no classifier work. One logits buffer serves every block. With
   * {@code rowWeights}, each block's logits become the loss gradient handed on.
   */
  void classifierChunks(
      INDArray hf, int[] rowTargets, int[] targetRows, double[] rowWeights, ChunkConsumer consumer) {
    int n = targetRows.length;
    if (n == 0) {
      return;
    }
    INDArray hidden = n == hf.size(0) ? hf : Nd4j.pullRows(hf, 1, targetRows);
    int chunk = Math.min(CLASSIFIER_CHUNK_ROWS, n);
    INDArray buffer = Nd4j.createUninitialized(dtype, chunk, config.vocabSize());
    for (int c0 = 0; c0 < n; c0 += chunk) {
      int size = Math.min(chunk, n - c0);
      int[] rows = Arrays.copyOfRange(targetRows, c0, c0 + size);
      INDArray block = hidden.get(interval(c0, c0 + size), all());
      INDArray logits = size == chunk ? buffer : buffer.get(interval(0, size), all());
      Nd4j.gemm(block, weights.classifier(), logits, false, true, 1.0, 0.0);
      int[] chunkTargets = new int[size];
      double[] chunkWeights = rowWeights == null ? null : new double[size];
      for (int i = 0; i < size; i++) {
        chunkTargets[i] = rowTargets[rows[i]];
        if (chunkWeights != null) {
          chunkWeights[i] = rowWeights[rows[i]];
        }
      }
      Ops.RowScores scores = Ops.crossEntropy(logits, chunkTargets, chunkWeights);
      consumer.accept(c0, rows, block, scores, rowWeights == null ? null : logits);
    }
    Ops.release(buffer);
    if (hidden != hf) {
      Ops.release(hidden);
    }
  }

  /** Mean next-token cross-entropy over the batch's target tokens, without gradients. */
  public double loss(LlamaBatch batch, LoraAdapters adapters) {
    Padded p = Padded.of(batch.sequences(), config);
    int[] rowTargets = p.rowTargets(batch);
    int count = batch.targetCount();
    INDArray h = decoder(embed(p.ids()), pass(p, adapters, null), null, null);
    INDArray hf = Ops.rmsNorm(h, weights.finalNorm(), config.normEps()).y();
    double[] sum = {0};
    classifierChunks(
        hf, rowTargets, Padded.targetRows(rowTargets), null,
        (first, rows, hidden, scores, unused) -> {
          for (int i = 0; i < scores.targetLogProb().length; i++) {
            sum[0] -= scores.targetLogProb()[i];
          }
        });
    return sum[0] / count;
  }

  /**
   * Loss and gradients of every LoRA A and B for one micro-batch; the base weights stay frozen. Only
   * this micro-batch's activations are held.
   *
   * @param dropoutSeed seed of the LoRA dropout masks (unused when the adapters have no dropout)
   */
  public LoraGradients loraGradients(LlamaBatch batch, LoraAdapters adapters, long dropoutSeed) {
    return new Backward(this).loraGradients(batch, adapters, dropoutSeed);
  }

  /**
   * Loss and gradients of every base weight (embedding, norms, projections, classifier) for one batch,
   * as pruning's importance estimation needs; nothing is updated.
   */
  public WeightGradients fullWeightGradients(LlamaBatch batch) {
    return new Backward(this).fullWeightGradients(batch);
  }
}
