package org.rankadaptor.dl4j.llama;

import org.rankadaptor.dl4j.runtime.Nd4jRuntime;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;

/**
 * A LLaMA-architecture decoder (RMSNorm, RoPE on interleaved pairs, grouped-query causal attention,
 * SwiGLU MLP) with per-layer widths and optional LoRA adapters, on ND4J.
 *
 * <p>It scores continuations, generates text with a KV cache, and computes gradients by an explicit
 * backward pass: of the LoRA adapters (base weights frozen) for recovery training, or of the base weights
 * for pruning's importance estimates. Sequences in a batch are padded on the right; position {@code t} of
 * every sequence has RoPE angle {@code t}. Every computation follows the weights' data type (float32 in
 * use, float64 for gradient checks). Instances are immutable; calls are not synchronised with each other
 * but share no mutable state.
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

  /** cos, sin and -sin of every position's angles, (maxSeqLen, headDim/2) each. */
  private record RopeTables(INDArray cos, INDArray sin, INDArray negSin) {}

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
      ropeByHeadDim.computeIfAbsent(shape.headDim(), this::ropeTables);
    }
  }

  private RopeTables ropeTables(int headDim) {
    int half = headDim / 2;
    double[] cos = new double[config.maxSeqLen() * half];
    double[] sin = new double[cos.length];
    for (int pos = 0; pos < config.maxSeqLen(); pos++) {
      for (int i = 0; i < half; i++) {
        double angle = pos * Math.pow(config.ropeTheta(), -2.0 * i / headDim);
        cos[pos * half + i] = Math.cos(angle);
        sin[pos * half + i] = Math.sin(angle);
      }
    }
    long[] shape = {config.maxSeqLen(), half};
    INDArray sinArray = Nd4j.create(sin, shape, DataType.DOUBLE).castTo(dtype);
    return new RopeTables(
        Nd4j.create(cos, shape, DataType.DOUBLE).castTo(dtype), sinArray, sinArray.neg());
  }

  /** Loads a llama2.c checkpoint, whose query/key rows are already interleaved. */
  public static LlamaModel fromLlama2c(Llama2cCheckpoint checkpoint, DataType dtype) {
    Nd4jRuntime.ensureInitialized();
    Llama2cCheckpoint.Header h = checkpoint.header();
    LlamaConfig config =
        LlamaConfig.uniform(
            h.dim(), h.nLayers(), h.nHeads(), h.nKvHeads(), h.hiddenDim(), h.vocabSize(), h.seqLen(),
            h.sharedClassifier());
    int d = h.dim();
    int kv = h.kvDim();
    int hid = h.hiddenDim();
    List<LayerWeights> layers = new ArrayList<>();
    for (int l = 0; l < h.nLayers(); l++) {
      layers.add(
          new LayerWeights(
              slice(checkpoint.rmsAtt(), l, dtype, d),
              slice(checkpoint.wq(), l, dtype, d, d),
              slice(checkpoint.wk(), l, dtype, kv, d),
              slice(checkpoint.wv(), l, dtype, kv, d),
              slice(checkpoint.wo(), l, dtype, d, d),
              slice(checkpoint.rmsFfn(), l, dtype, d),
              slice(checkpoint.w1(), l, dtype, hid, d),
              slice(checkpoint.w3(), l, dtype, hid, d),
              slice(checkpoint.w2(), l, dtype, d, hid)));
    }
    INDArray embedding = slice(checkpoint.tokenEmbedding(), 0, dtype, h.vocabSize(), d);
    INDArray classifier =
        h.sharedClassifier() ? embedding : slice(checkpoint.classifier(), 0, dtype, h.vocabSize(), d);
    return new LlamaModel(
        config,
        new LlamaWeights(embedding, layers, slice(checkpoint.rmsFinal(), 0, dtype, d), classifier));
  }

  /** The {@code index}-th block of {@code shape} in a stacked float array. */
  private static INDArray slice(float[] stacked, int index, DataType dtype, long... shape) {
    int size = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    float[] part = Arrays.copyOfRange(stacked, index * size, (index + 1) * size);
    return Nd4j.create(part, shape, 'c').castTo(dtype);
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

  // ================================================================== forward pass

  /** Sequences padded on the right into one (batch, T) id matrix. */
  private record Padded(int batch, int t, int[] ids, int[] lengths) {
    int rows() {
      return batch * t;
    }
  }

  private Padded pad(int[][] sequences) {
    int t = 0;
    for (int[] s : sequences) {
      t = Math.max(t, s.length);
    }
    if (t > config.maxSeqLen()) {
      throw new IllegalArgumentException(
          "sequence of " + t + " tokens exceeds maxSeqLen " + config.maxSeqLen());
    }
    int[] ids = new int[sequences.length * t];
    int[] lengths = new int[sequences.length];
    for (int b = 0; b < sequences.length; b++) {
      if (sequences[b].length == 0) {
        throw new IllegalArgumentException("sequence " + b + " is empty");
      }
      for (int i = 0; i < sequences[b].length; i++) {
        int id = sequences[b][i];
        if (id < 0 || id >= config.vocabSize()) {
          throw new IllegalArgumentException(
              "token id " + id + " at sequence " + b + " position " + i + " outside vocabulary of "
                  + config.vocabSize());
        }
        ids[b * t + i] = id;
      }
      lengths[b] = sequences[b].length;
    }
    return new Padded(sequences.length, t, ids, lengths);
  }

  /** Everything one layer's backward pass needs from its forward pass. */
  private record LayerTrace(
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
  private record Pass(
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

  /**
   * A workspace that holds every array of one generation step of {@code batch} sequences, sized once from
   * the geometry (the cache's copies dominate: a few per layer of batch x maxSeqLen x kvDim), so that no
   * step allocates: a step's arrays are as large as the cache, and fresh native allocations of that size
   * cost more than the step's arithmetic. What does not fit is allocated outside it.
   */
  private WorkspaceConfiguration generationWorkspace(int batch) {
    long perLayer = 0;
    for (LayerShape s : config.layers()) {
      long keys = (long) batch * config.maxSeqLen() * Math.max(s.kvDim(), s.nHeads());
      long rows = (long) batch * (4L * config.dim() + 3L * s.hiddenDim() + 2L * s.nHeads() * s.headDim());
      perLayer = Math.max(perLayer, 8 * keys + 4 * rows);
    }
    long bytes = Float.BYTES * (perLayer * config.nLayers() + 4L * batch * (config.dim() + config.vocabSize()))
        + (16L << 20);
    return Workspaces.fixed(bytes);
  }

  /**
   * Key/value rows of the sequences decoded side by side, each (batch, maxSeqLen, kvDim): the sequences
   * advance in lockstep, so one offset serves them all.
   */
  private record KvCache(INDArray[] keys, INDArray[] values) {}

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
    RopeTables rope = ropeByHeadDim.get(s.headDim());
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
  private INDArray decoder(INDArray embedded, Pass pass, List<LayerTrace> traces, KvCache cache) {
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

  private INDArray embed(int[] ids) {
    return Nd4j.pullRows(weights.tokenEmbedding(), 1, ids);
  }

  private Pass pass(Padded p, LoraAdapters adapters, Random dropoutRandom) {
    checkAdapters(adapters);
    return new Pass(p.batch(), p.t(), 0, p.lengths(), adapters, dropoutRandom);
  }

  private void checkAdapters(LoraAdapters adapters) {
    if (adapters != null && adapters.nLayers() != config.nLayers()) {
      throw new IllegalArgumentException(
          "adapters for " + adapters.nLayers() + " layers on a " + config.nLayers() + "-layer model");
    }
  }

  /**
   * Next-token logits of every position, (batch, T, vocab) with T the longest sequence; positions past
   * a sequence's end hold padding values.
   *
   * @param adapters LoRA adapters to apply, or null for the base model
   */
  public INDArray logits(int[][] sequences, LoraAdapters adapters) {
    Padded p = pad(sequences);
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
    Padded p = pad(inputs);
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
        targetRows(rowTargets),
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

  private interface ChunkConsumer {
    /**
     * @param first index of the block's first row among the target rows
     * @param rows the batch rows of this block, in order
     * @param hidden (rows.length, dim): the final-norm outputs of those rows
     * @param dLogits the block's loss gradient, or null when only scoring
     */
    void accept(int first, int[] rows, INDArray hidden, Ops.RowScores scores, INDArray dLogits);
  }

  /** The rows that have a target, in order. */
  private static int[] targetRows(int[] rowTargets) {
    return java.util.stream.IntStream.range(0, rowTargets.length)
        .filter(r -> rowTargets[r] >= 0)
        .toArray();
  }

  /**
   * Runs the classifier only on the target rows, gathered once into a compact matrix, in blocks of
   * {@link #CLASSIFIER_CHUNK_ROWS}, so that (rows, vocab) logits never exist at once and context
   * positions of a scoring request cost no classifier work. One logits buffer serves every block. With
   * {@code rowWeights}, each block's logits become the loss gradient handed on.
   */
  private void classifierChunks(
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

  /** A (rows, cols) matrix of zeros with row {@code targetRows[i]} set to row {@code i} of {@code compact}. */
  private static INDArray scatterRows(INDArray compact, int[] targetRows, int rows) {
    if (targetRows.length == rows) {
      return compact;
    }
    int cols = (int) compact.size(1);
    INDArray full = Nd4j.zeros(compact.dataType(), rows, cols);
    if (!Kernels.fused()) {
      // Row by row as ND4J operations: the loop below reads and writes host memory.
      for (int i = 0; i < targetRows.length; i++) {
        full.putRow(targetRows[i], compact.getRow(i));
      }
      Ops.release(compact);
      return full;
    }
    Kernels.Values from = Kernels.values(compact);
    Kernels.Values to = Kernels.values(full);
    for (int i = 0; i < targetRows.length; i++) {
      int src = i * cols;
      int dst = targetRows[i] * cols;
      for (int c = 0; c < cols; c++) {
        to.set(dst + c, from.get(src + c));
      }
    }
    Ops.release(compact);
    return full;
  }

  // ================================================================== loss and gradients

  /** Mean next-token cross-entropy over the batch's target tokens, without gradients. */
  public double loss(LlamaBatch batch, LoraAdapters adapters) {
    Padded p = pad(batch.sequences());
    int[] rowTargets = rowTargets(batch, p);
    int count = batch.targetCount();
    INDArray h = decoder(embed(p.ids()), pass(p, adapters, null), null, null);
    INDArray hf = Ops.rmsNorm(h, weights.finalNorm(), config.normEps()).y();
    double[] sum = {0};
    classifierChunks(
        hf, rowTargets, targetRows(rowTargets), null,
        (first, rows, hidden, scores, unused) -> {
          for (int i = 0; i < scores.targetLogProb().length; i++) {
            sum[0] -= scores.targetLogProb()[i];
          }
        });
    return sum[0] / count;
  }

  /** Target of row (b, t): token t+1 when it exists and is masked in, else -1. */
  private static int[] rowTargets(LlamaBatch batch, Padded p) {
    if (batch.targetCount() == 0) {
      throw new IllegalArgumentException("the batch has no target tokens");
    }
    int[] targets = new int[p.rows()];
    Arrays.fill(targets, -1);
    for (int b = 0; b < p.batch(); b++) {
      int[] seq = batch.sequences()[b];
      for (int t = 0; t + 1 < seq.length; t++) {
        if (batch.targetMask()[b][t + 1]) {
          targets[b * p.t() + t] = seq[t + 1];
        }
      }
    }
    return targets;
  }

  /**
   * Loss and gradients of every LoRA A and B for one micro-batch; the base weights stay frozen. Only
   * this micro-batch's activations are held.
   *
   * @param dropoutSeed seed of the LoRA dropout masks (unused when the adapters have no dropout)
   */
  public LoraGradients loraGradients(LlamaBatch batch, LoraAdapters adapters, long dropoutSeed) {
    List<Map<LoraTarget, LoraAdapter>> grads = new ArrayList<>();
    for (int l = 0; l < adapters.nLayers(); l++) {
      Map<LoraTarget, LoraAdapter> layer = new EnumMap<>(LoraTarget.class);
      adapters.layer(l).forEach(
          (target, a) ->
              layer.put(
                  target, new LoraAdapter(a.a().ulike().assign(0), a.b().ulike().assign(0), a.scaling())));
      grads.add(layer);
    }
    LoraAdapters gradients = LoraAdapters.of(grads, adapters.dropout());
    double loss;
    if (adapters.dropout() > 0) {
      try (Random random = Nd4j.getRandomFactory().getNewRandomInstance(dropoutSeed)) {
        loss = backward(batch, adapters, random, gradients, null);
      } catch (Exception e) {
        throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
      }
    } else {
      loss = backward(batch, adapters, null, gradients, null);
    }
    return new LoraGradients(loss, batch.targetCount(), gradients);
  }

  /**
   * Loss and gradients of every base weight (embedding, norms, projections, classifier) for one batch,
   * as pruning's importance estimation needs; nothing is updated.
   */
  public WeightGradients fullWeightGradients(LlamaBatch batch) {
    List<LayerWeights> layers = new ArrayList<>();
    for (LayerWeights w : weights.layers()) {
      layers.add(
          new LayerWeights(
              zerosLike(w.attnNorm()), zerosLike(w.wq()), zerosLike(w.wk()), zerosLike(w.wv()),
              zerosLike(w.wo()), zerosLike(w.ffnNorm()), zerosLike(w.gate()), zerosLike(w.up()),
              zerosLike(w.down())));
    }
    INDArray embedding = zerosLike(weights.tokenEmbedding());
    INDArray classifier = config.tiedClassifier() ? embedding : zerosLike(weights.classifier());
    LlamaWeights gradients =
        new LlamaWeights(embedding, layers, zerosLike(weights.finalNorm()), classifier);
    double loss = backward(batch, null, null, null, gradients);
    return new WeightGradients(loss, batch.targetCount(), gradients);
  }

  private static INDArray zerosLike(INDArray a) {
    return Nd4j.zeros(a.dataType(), a.shape());
  }

  /**
   * Forward and backward of the mean next-token loss. Adds LoRA gradients into {@code loraGrads} and
   * base-weight gradients into {@code weightGrads}, whichever is not null; returns the loss.
   */
  private double backward(
      LlamaBatch batch, LoraAdapters adapters, Random dropout, LoraAdapters loraGrads,
      LlamaWeights weightGrads) {
    Padded p = pad(batch.sequences());
    int[] rowTargets = rowTargets(batch, p);
    int count = batch.targetCount();
    double[] rowWeights = new double[p.rows()];
    for (int r = 0; r < rowWeights.length; r++) {
      rowWeights[r] = rowTargets[r] >= 0 ? 1.0 / count : 0.0;
    }
    Pass pass = pass(p, adapters, dropout);
    List<LayerTrace> traces = new ArrayList<>(config.nLayers());
    INDArray h = decoder(embed(p.ids()), pass, traces, null);
    Ops.NormOut fin = Ops.rmsNorm(h, weights.finalNorm(), config.normEps());

    int[] targetRows = targetRows(rowTargets);
    INDArray dHidden = Nd4j.createUninitialized(dtype, targetRows.length, config.dim());
    double[] lossSum = {0};
    classifierChunks(
        fin.y(), rowTargets, targetRows, rowWeights,
        (first, rows, hidden, scores, dLogits) -> {
          for (int i = 0; i < scores.targetLogProb().length; i++) {
            lossSum[0] -= scores.targetLogProb()[i];
          }
          INDArray dBlock = dHidden.get(interval(first, first + rows.length), all());
          Nd4j.gemm(dLogits, weights.classifier(), dBlock, false, false, 1.0, 0.0);
          if (weightGrads != null) {
            Nd4j.gemm(dLogits, hidden, weightGrads.classifier(), true, false, 1.0, 1.0);
          }
        });
    INDArray dHf = scatterRows(dHidden, targetRows, p.rows());
    INDArray dh =
        Ops.rmsNormBackward(dHf, h, weights.finalNorm(), fin.invRms(),
            weightGrads == null ? null : weightGrads.finalNorm());
    for (int l = config.nLayers() - 1; l >= 0; l--) {
      dh = layerBackward(l, dh, traces.get(l), pass, loraGrads,
          weightGrads == null ? null : weightGrads.layers().get(l));
      traces.get(l).release();
      Ops.release(traces.get(l).input());
      traces.set(l, null);
    }
    if (weightGrads != null) {
      INDArray dEmbedding = weightGrads.tokenEmbedding();
      for (int r = 0; r < p.rows(); r++) {
        if (r % p.t() < p.lengths()[r / p.t()]) {
          dEmbedding.getRow(p.ids()[r]).addi(dh.getRow(r));
        }
      }
    }
    return lossSum[0] / count;
  }

  private INDArray layerBackward(
      int l, INDArray dOut, LayerTrace f, Pass pass, LoraAdapters loraGrads, LayerWeights dw) {
    LayerWeights w = weights.layers().get(l);
    LayerShape s = config.layer(l);
    RopeTables rope = ropeByHeadDim.get(s.headDim());
    int b = pass.batch();
    int t = pass.t();

    INDArray dAct = linearBack(dOut, f.act().a(), l, LoraTarget.DOWN, f.down(), pass, loraGrads, dw);
    Ops.SwigluGrads dSwiglu = Ops.swigluBackward(dAct, f.gate().y(), f.up().y(), f.act().sigmoid());
    INDArray dn2 = linearBack(dSwiglu.dGate(), f.ffnNorm().y(), l, LoraTarget.GATE, f.gate(), pass,
        loraGrads, dw);
    INDArray dnUp =
        linearBack(dSwiglu.dUp(), f.ffnNorm().y(), l, LoraTarget.UP, f.up(), pass, loraGrads, dw);
    dn2.addi(dnUp);
    INDArray dMiddle =
        Ops.rmsNormBackward(dn2, f.middle(), w.ffnNorm(), f.ffnNorm().invRms(),
            dw == null ? null : dw.ffnNorm()).addi(dOut);
    Ops.release(dAct, dSwiglu.dGate(), dSwiglu.dUp(), dnUp, dn2, dOut);

    INDArray dContext =
        linearBack(dMiddle, f.attention().context(), l, LoraTarget.O, f.o(), pass, loraGrads, dw);
    Ops.AttentionShape geometry = new Ops.AttentionShape(b, t, t, s.nHeads(), s.nKvHeads(), s.headDim());
    Ops.AttentionGrads dAttention = Ops.attentionBackward(dContext, f.attention(), geometry);
    INDArray dq = Ops.rope(dAttention.dq(), b, t, s.nHeads(), s.headDim(), 0, rope.cos(), rope.negSin());
    INDArray dk =
        Ops.rope(dAttention.dk(), b, t, s.nKvHeads(), s.headDim(), 0, rope.cos(), rope.negSin());
    // The first layer's input is the frozen embedding: with no weight gradients wanted, the gradient
    // with respect to it is never used, so only the adapters' gradients are formed there.
    boolean needInput = l > 0 || dw != null;
    INDArray dn1 =
        linearBack(dq, f.attnNorm().y(), l, LoraTarget.Q, f.q(), pass, loraGrads, dw, needInput);
    INDArray dnk =
        linearBack(dk, f.attnNorm().y(), l, LoraTarget.K, f.k(), pass, loraGrads, dw, needInput);
    INDArray dnv = linearBack(
        dAttention.dv(), f.attnNorm().y(), l, LoraTarget.V, f.v(), pass, loraGrads, dw, needInput);
    Ops.release(dContext, dAttention.dq(), dAttention.dk(), dAttention.dv(), dq, dk);
    if (!needInput) {
      Ops.release(dMiddle);
      return null;
    }
    dn1.addi(dnk).addi(dnv);
    Ops.release(dnk, dnv);
    INDArray dIn =
        Ops.rmsNormBackward(dn1, f.input(), w.attnNorm(), f.attnNorm().invRms(),
            dw == null ? null : dw.attnNorm()).addi(dMiddle);
    Ops.release(dn1, dMiddle);
    return dIn;
  }

  private INDArray linearBack(
      INDArray dy, INDArray x, int l, LoraTarget target, Ops.LinearOut f, Pass pass,
      LoraAdapters loraGrads, LayerWeights dw) {
    return linearBack(dy, x, l, target, f, pass, loraGrads, dw, true);
  }

  private INDArray linearBack(
      INDArray dy, INDArray x, int l, LoraTarget target, Ops.LinearOut f, Pass pass,
      LoraAdapters loraGrads, LayerWeights dw, boolean needInput) {
    return Ops.linearBackward(
        dy, x, weights.layers().get(l).projection(target), pass.lora(l, target), f,
        loraGrads == null ? null : loraGrads.get(l, target),
        dw == null ? null : dw.projection(target), needInput);
  }

  // ================================================================== generation

  /**
   * Continues {@code prompt} token by token with a KV cache, stopping at EOS (id 2), BOS (id 1, which
   * starts a new text in llama2.c's data), {@code maxNewTokens} or {@code maxSeqLen}.
   *
   * @param adapters LoRA adapters to apply, or null for the base model
   * @return the generated ids, without the prompt
   */
  public int[] generate(int[] prompt, GenerationSettings settings, LoraAdapters adapters) {
    return generate(prompt, List.of(settings), adapters).get(0);
  }

  /**
   * Continues {@code prompt} once per settings, the continuations decoded side by side as one batch
   * (one pass of the model per token for all of them, which costs little more than one sequence's pass
   * on a model this small). Each continuation samples from its own settings' seed and stops on its own,
   * as {@link #generate(int[], GenerationSettings, LoraAdapters)} does; batching changes only the
   * rounding of the logits, not the sampling streams.
   *
   * @param perSequence one settings per continuation
   * @param adapters LoRA adapters to apply, or null for the base model
   * @return the generated ids of each continuation, without the prompt, in the order of the settings
   */
  public List<int[]> generate(int[] prompt, List<GenerationSettings> perSequence, LoraAdapters adapters) {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("generation needs a non-empty prompt");
    }
    if (perSequence.isEmpty()) {
      throw new IllegalArgumentException("generation needs at least one settings");
    }
    checkAdapters(adapters);
    pad(new int[][] {prompt});
    int b = perSequence.size();
    INDArray[] keys = new INDArray[config.nLayers()];
    INDArray[] values = new INDArray[config.nLayers()];
    for (int l = 0; l < config.nLayers(); l++) {
      keys[l] = Nd4j.zeros(dtype, b, config.maxSeqLen(), config.layer(l).kvDim());
      values[l] = Nd4j.zeros(dtype, b, config.maxSeqLen(), config.layer(l).kvDim());
    }
    KvCache cache = new KvCache(keys, values);
    SplittableRandom[] random = new SplittableRandom[b];
    List<List<Integer>> generated = new ArrayList<>();
    boolean[] done = new boolean[b];
    int longest = 0;
    for (int i = 0; i < b; i++) {
      random[i] = new SplittableRandom(perSequence.get(i).seed());
      generated.add(new ArrayList<>());
      done[i] = perSequence.get(i).maxNewTokens() == 0;
      longest = Math.max(longest, perSequence.get(i).maxNewTokens());
    }
    int[][] step = new int[b][];
    Arrays.fill(step, prompt);
    WorkspaceConfiguration workspace = generationWorkspace(b);
    String workspaceId = "rankadaptor-generation-" + System.identityHashCode(cache);
    int offset = 0;
    int running = (int) IntStream.range(0, b).filter(i -> !done[i]).count();
    while (running > 0 && offset + step[0].length < config.maxSeqLen() + 1) {
      int t = step[0].length;
      int[] keyLengths = new int[b];
      Arrays.fill(keyLengths, offset + t);
      Pass pass = new Pass(b, t, offset, keyLengths, adapters, null);
      double[][] logits;
      // Every array of a step lives in a workspace that the next step reuses: a step allocates and frees
      // buffers as large as the cache, and fresh native allocations of that size cost more than the step.
      try (MemoryWorkspace ignored = Workspaces.activate(workspace, workspaceId)) {
        INDArray h = decoder(embed(Arrays.stream(step).flatMapToInt(Arrays::stream).toArray()), pass, null, cache);
        // The last position of every sequence: rows t-1, 2t-1, ...
        INDArray lastRows = h.reshape(b, t, config.dim()).get(all(), point(t - 1), all()).reshape(b, config.dim());
        INDArray last = Ops.rmsNorm(lastRows, weights.finalNorm(), config.normEps()).y();
        logits = Nd4j.gemm(last, weights.classifier(), false, true).toDoubleMatrix();
      }
      offset += t;
      for (int i = 0; i < b; i++) {
        int next = 0;
        if (!done[i]) {
          next = sample(logits[i], perSequence.get(i), random[i]);
          if (next == 1 || next == 2) {
            done[i] = true;
            running--;
          } else {
            generated.get(i).add(next);
            if (generated.get(i).size() >= perSequence.get(i).maxNewTokens()) {
              done[i] = true;
              running--;
            }
          }
        }
        // A finished sequence keeps its place in the batch with a token no one reads.
        step[i] = new int[] {next};
      }
      if (offset >= config.maxSeqLen()) {
        break;
      }
    }
    Workspaces.destroy(workspace, workspaceId);
    List<int[]> out = new ArrayList<>(b);
    for (List<Integer> g : generated) {
      out.add(g.stream().mapToInt(Integer::intValue).toArray());
    }
    return out;
  }

  /** Greedy, temperature or nucleus sampling as llama2.c's sampler does. */
  static int sample(double[] logits, GenerationSettings settings, SplittableRandom random) {
    if (settings.temperature() == 0) {
      int best = 0;
      for (int i = 1; i < logits.length; i++) {
        if (logits[i] > logits[best]) {
          best = i;
        }
      }
      return best;
    }
    double max = Double.NEGATIVE_INFINITY;
    for (double v : logits) {
      max = Math.max(max, v);
    }
    double[] probs = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      probs[i] = Math.exp((logits[i] - max) / settings.temperature());
      sum += probs[i];
    }
    for (int i = 0; i < probs.length; i++) {
      probs[i] /= sum;
    }
    double coin = random.nextDouble();
    if (settings.topP() >= 1) {
      double cdf = 0;
      for (int i = 0; i < probs.length; i++) {
        cdf += probs[i];
        if (coin < cdf) {
          return i;
        }
      }
      return probs.length - 1;
    }
    // Nucleus: the smallest set of most likely tokens whose mass exceeds topP, sampled renormalised.
    Integer[] order = new Integer[probs.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
    double mass = 0;
    int last = order.length - 1;
    for (int i = 0; i < order.length; i++) {
      mass += probs[order[i]];
      if (mass > settings.topP()) {
        last = i;
        break;
      }
    }
    double target = coin * mass;
    double cdf = 0;
    for (int i = 0; i <= last; i++) {
      cdf += probs[order[i]];
      if (target < cdf) {
        return order[i];
      }
    }
    return order[last];
  }
}
