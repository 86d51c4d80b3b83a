package org.rankadaptor.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.prune.BlockImportance;
import org.rankadaptor.dl4j.prune.CalibrationSet;
import org.rankadaptor.dl4j.prune.DepthPruner;
import org.rankadaptor.dl4j.prune.DepthPruningResult;
import org.rankadaptor.dl4j.prune.DepthPruningSettings;
import org.rankadaptor.dl4j.prune.GroupReduction;
import org.rankadaptor.dl4j.prune.Importance;
import org.rankadaptor.dl4j.prune.WidthPruner;
import org.rankadaptor.dl4j.prune.WidthPruningResult;
import org.rankadaptor.dl4j.prune.WidthPruningSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One whole pruning run (importance estimation, selection, slicing) for two model shapes with seeded
 * random weights (timing does not depend on the values): {@code stories260K} (dim 64, 5 layers, 8 heads,
 * 4 kv heads, MLP 172, vocab 512) and {@code m24} (dim 288, 6 layers, 6 heads, MLP 768, vocab 32000).
 * Width pruning removes 20 % of the parameters from the inner layers with 10 calibration samples of 64
 * tokens; depth pruning removes one block (first and last protected) with 10 samples of 128 tokens.
 *
 * <p>Peak memory: the fork resets the kernel's peak-RSS mark after setup (Linux {@code
 * /proc/self/clear_refs}) and logs {@code VmHWM} at tear-down, so the figure is the process's resident
 * peak while pruning, on- and off-heap (JVM and ND4J buffers included).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class PruningBenchmark {

  private static final Logger LOG = LoggerFactory.getLogger(PruningBenchmark.class);

  @Param({"stories260K", "m24"})
  public String shape;

  private LlamaModel model;
  private CalibrationSet widthCalibration;
  private CalibrationSet depthCalibration;
  private int lastInner;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    Nd4jRuntime.ensureInitialized();
    LlamaConfig config =
        switch (shape) {
          case "stories260K" -> LlamaConfig.uniform(64, 5, 8, 4, 172, 512, 512, true);
          case "m24" -> LlamaConfig.uniform(288, 6, 6, 6, 768, 32000, 256, true);
          default -> throw new IllegalArgumentException("unknown shape " + shape);
        };
    model = LlamaModel.randomInit(config, 1, DataType.FLOAT);
    lastInner = config.nLayers() - 2;
    widthCalibration = CalibrationSet.of(tokens(config.vocabSize(), CalibrationSet.WIDTH_SAMPLE_LENGTH));
    depthCalibration = CalibrationSet.of(tokens(config.vocabSize(), CalibrationSet.DEPTH_SAMPLE_LENGTH));
    Path clearRefs = Path.of("/proc/self/clear_refs");
    if (Files.isWritable(clearRefs)) {
      Files.writeString(clearRefs, "5"); // resets VmHWM to the current RSS
    }
  }

  private static int[][] tokens(int vocab, int length) {
    SplittableRandom random = new SplittableRandom(7);
    int[][] samples = new int[CalibrationSet.DEFAULT_SAMPLES][length];
    for (int[] sample : samples) {
      for (int t = 0; t < length; t++) {
        sample[t] = random.nextInt(vocab);
      }
    }
    return samples;
  }

  @TearDown(Level.Trial)
  public void peakMemory() throws IOException {
    Path status = Path.of("/proc/self/status");
    if (Files.isReadable(status)) {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("VmHWM") || line.startsWith("VmRSS")) {
          LOG.info("{} {}: {}", shape, line.substring(0, 5), line.substring(6).trim());
        }
      }
    }
  }

  private WidthPruningResult width(Importance importance) {
    return WidthPruner.prune(
        model,
        widthCalibration,
        new WidthPruningSettings(importance, GroupReduction.SUM, 1, lastInner, 0.2, 0));
  }

  /** First-order Taylor width pruning: one backward pass over the 10 samples. */
  @Benchmark
  public WidthPruningResult widthElement1() {
    return width(Importance.ELEMENT1);
  }

  /** Second-order Taylor width pruning: one backward pass per sample for the Fisher diagonal. */
  @Benchmark
  public WidthPruningResult widthElement2() {
    return width(Importance.ELEMENT2);
  }

  /** Taylor depth pruning: one backward pass. */
  @Benchmark
  public DepthPruningResult depthTaylor() {
    return DepthPruner.prune(model, depthCalibration, new DepthPruningSettings(BlockImportance.TAYLOR, 1, 1, 1));
  }

  /** Perplexity depth pruning: one forward pass per candidate block. */
  @Benchmark
  public DepthPruningResult depthPpl() {
    return DepthPruner.prune(model, depthCalibration, new DepthPruningSettings(BlockImportance.PPL, 1, 1, 1));
  }
}
