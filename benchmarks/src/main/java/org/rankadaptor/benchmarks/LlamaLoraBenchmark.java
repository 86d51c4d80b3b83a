package org.rankadaptor.benchmarks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.rankadaptor.dl4j.llama.ContinuationRequest;
import org.rankadaptor.dl4j.llama.ContinuationScore;
import org.rankadaptor.dl4j.llama.LayerShape;
import org.rankadaptor.dl4j.llama.LlamaBatch;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.llama.LoraGradients;

/**
 * LoRA training step (forward + explicit backward) and continuation scoring on a batch of 8 sequences
 * of 256 tokens, for three model shapes: {@code stories260K} (dim 64, 5 layers, 8 heads, 4 kv heads, MLP
 * 172, vocab 512, ranks [8,4,12,6,8]); {@code m24} (dim 288, 6 layers, 6 heads, MLP 768, vocab 32000,
 * rank 8); {@code m24pruned} (as m24 with layers 1-4 reduced to 4 heads and MLP 512). Each operation
 * processes 8 x 256 = 2048 tokens, so tokens/s = 2048 / (seconds per operation).
 *
 * <p>Run with {@code OMP_WAIT_POLICY=PASSIVE} in the environment on a shared machine: spinning OpenMP
 * threads otherwise lose most of their time to other processes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
// ND4J frees native buffers when their Java wrappers are collected; the JavaCPP limits make it collect
// before the process passes 1.8 GB, which holds peak memory under the 2 GB target.
@Fork(
    value = 1,
    jvmArgsAppend = {
      "-Xmx1g", "-Dorg.bytedeco.javacpp.maxbytes=1200m", "-Dorg.bytedeco.javacpp.maxphysicalbytes=1800m"
    })
public class LlamaLoraBenchmark {

  static final int BATCH = 8;
  static final int TOKENS = 256;

  @Param({"stories260K", "m24", "m24pruned"})
  public String shape;

  private LlamaModel model;
  private LoraAdapters adapters;
  private LlamaBatch batch;
  private List<ContinuationRequest> requests;

  @Setup(Level.Trial)
  public void setUp() {
    LlamaConfig config;
    int[] ranks;
    switch (shape) {
      case "stories260K" -> {
        config = LlamaConfig.uniform(64, 5, 8, 4, 172, 512, 512, true);
        ranks = new int[] {8, 4, 12, 6, 8};
      }
      case "m24" -> {
        config = LlamaConfig.uniform(288, 6, 6, 6, 768, 32000, 256, true);
        ranks = new int[] {8, 8, 8, 8, 8, 8};
      }
      case "m24pruned" -> {
        List<LayerShape> layers = new ArrayList<>(Collections.nCopies(6, new LayerShape(6, 6, 48, 768)));
        for (int l = 1; l <= 4; l++) {
          layers.set(l, new LayerShape(4, 4, 48, 512));
        }
        config = LlamaConfig.uniform(288, 6, 6, 6, 768, 32000, 256, true).withLayers(layers);
        ranks = new int[] {8, 8, 8, 8, 8, 8};
      }
      default -> throw new IllegalArgumentException("unknown shape " + shape);
    }
    model = LlamaModel.randomInit(config, 1, DataType.FLOAT);
    adapters = LoraAdapters.init(config, ranks, 16.0, 2, DataType.FLOAT);
    SplittableRandom random = new SplittableRandom(3);
    int[][] sequences = new int[BATCH][TOKENS];
    requests = new ArrayList<>();
    for (int b = 0; b < BATCH; b++) {
      for (int t = 0; t < TOKENS; t++) {
        sequences[b][t] = random.nextInt(config.vocabSize());
      }
      // Scoring reads context + continuation minus its last token, so 257 tokens make 256 positions.
      int[] context = java.util.Arrays.copyOf(sequences[b], TOKENS - 31);
      int[] continuation = new int[32];
      for (int i = 0; i < 32; i++) {
        continuation[i] = i < 31 ? sequences[b][TOKENS - 31 + i] : random.nextInt(config.vocabSize());
      }
      requests.add(new ContinuationRequest(context, continuation));
    }
    batch = LlamaBatch.of(sequences);
  }

  /** One LoRA training step's gradient computation: 2048 tokens forward and backward. */
  @Benchmark
  public LoraGradients trainStep() {
    return model.loraGradients(batch, adapters, 0);
  }

  /** Scoring 8 continuations of 32 tokens after 225-token contexts: 2048 positions forward. */
  @Benchmark
  public List<ContinuationScore> score() {
    return model.scoreContinuations(requests, adapters);
  }
}
