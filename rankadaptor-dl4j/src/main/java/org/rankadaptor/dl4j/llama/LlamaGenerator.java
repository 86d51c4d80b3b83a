package org.rankadaptor.dl4j.llama;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Generates text from a {@link LlamaModel} token by token with a KV cache: the prompt in one pass, then
 * one position per step, each continuation picking its tokens with its own {@link GenerationSettings}.
 * Generation stops at EOS (id 2), BOS (id 1, which starts a new text in llama2.c's data), {@code
 * maxNewTokens} or {@code maxSeqLen}. Holds no state between calls.
 *
 * @since 0.1.0
 */
public final class LlamaGenerator {

  private final LlamaModel model;

  /** A generator over {@code model}'s weights. */
  public LlamaGenerator(LlamaModel model) {
    this.model = model;
  }

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
    LlamaConfig config = model.config();
    LlamaWeights weights = model.weights();
    model.checkAdapters(adapters);
    Padded.of(new int[][] {prompt}, config);
    int b = perSequence.size();
    INDArray[] keys = new INDArray[config.nLayers()];
    INDArray[] values = new INDArray[config.nLayers()];
    for (int l = 0; l < config.nLayers(); l++) {
      keys[l] = Nd4j.zeros(model.dataType(), b, config.maxSeqLen(), config.layer(l).kvDim());
      values[l] = Nd4j.zeros(model.dataType(), b, config.maxSeqLen(), config.layer(l).kvDim());
    }
    KvCache cache = new KvCache(keys, values);
    Sampler[] samplers = new Sampler[b];
    List<List<Integer>> generated = new ArrayList<>();
    boolean[] done = new boolean[b];
    for (int i = 0; i < b; i++) {
      samplers[i] = Sampler.of(perSequence.get(i), new SplittableRandom(perSequence.get(i).seed()));
      generated.add(new ArrayList<>());
      done[i] = perSequence.get(i).maxNewTokens() == 0;
    }
    int[][] step = new int[b][];
    Arrays.fill(step, prompt);
    WorkspaceConfiguration workspace = workspace(b);
    String workspaceId = "rankadaptor-generation-" + System.identityHashCode(cache);
    int offset = 0;
    int running = (int) IntStream.range(0, b).filter(i -> !done[i]).count();
    while (running > 0 && offset + step[0].length < config.maxSeqLen() + 1) {
      int t = step[0].length;
      int[] keyLengths = new int[b];
      Arrays.fill(keyLengths, offset + t);
      LlamaModel.Pass pass = new LlamaModel.Pass(b, t, offset, keyLengths, adapters, null);
      double[][] logits;
      // Every array of a step lives in a workspace that the next step reuses: a step allocates and frees
      // buffers as large as the cache, and fresh native allocations of that size cost more than the step.
      try (MemoryWorkspace ignored = Workspaces.activate(workspace, workspaceId)) {
        INDArray h = model.decoder(
            model.embed(Arrays.stream(step).flatMapToInt(Arrays::stream).toArray()), pass, null, cache);
        // The last position of every sequence: rows t-1, 2t-1, ...
        INDArray lastRows = h.reshape(b, t, config.dim()).get(all(), point(t - 1), all()).reshape(b, config.dim());
        INDArray last = Ops.rmsNorm(lastRows, weights.finalNorm(), config.normEps()).y();
        logits = Nd4j.gemm(last, weights.classifier(), false, true).toDoubleMatrix();
      }
      offset += t;
      for (int i = 0; i < b; i++) {
        int next = 0;
        if (!done[i]) {
          next = samplers[i].sample(logits[i]);
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

  /**
   * A workspace that holds every array of one generation step of {@code batch} sequences, sized once from
   * the geometry (the cache's copies dominate: a few per layer of batch x maxSeqLen x kvDim), so that no
   * step allocates: a step's arrays are as large as the cache, and fresh native allocations of that size
   * cost more than the step's arithmetic. What does not fit is allocated outside it.
   */
  private WorkspaceConfiguration workspace(int batch) {
    LlamaConfig config = model.config();
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
}
