package org.rankadaptor.benchmarks;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.rankadaptor.Evaluation;
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.eval.LlamaScoring;
import org.rankadaptor.dl4j.eval.MultipleChoiceItem;
import org.rankadaptor.dl4j.eval.ZeroShotEvaluator;
import org.rankadaptor.dl4j.eval.ZeroShotTask;
import org.rankadaptor.dl4j.io.Tokenizer;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.recover.LoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.dl4j.recover.RecoverySettings;
import org.rankadaptor.dl4j.recover.TrainingData;
import org.rankadaptor.dl4j.recover.TrainingExample;

/**
 * Recovery and evaluation throughput on a {@code stories260K}-shaped model (dim 64, 5 layers, 8 heads, 4
 * kv heads, MLP 172, vocab 512) with seeded random weights.
 *
 * <ul>
 *   <li>{@code recover}: a whole {@link LoraRecoveryRunner#recover} of {@value #STEPS} optimiser steps,
 *       each of 8 sequences of 256 tokens in micro-batches of 4 (accumulated), ranks [8,4,12,6,8], plus
 *       two validations of one 16-token sequence: {@value #STEPS} x 2048 = 8192 training tokens per
 *       operation, so tokens/s = 8192 / (seconds per operation).
 *   <li>{@code evaluate}: {@link ZeroShotEvaluator} over {@value #ITEMS} two-choice items (PIQA-like
 *       prompts of about 100 tokens) scored by the recovered model in batches of 64 requests: items/s =
 *       {@value #ITEMS} / (seconds per operation).
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class RecoveryBenchmark {

  static final int STEPS = 4;
  static final int ITEMS = 64;
  private static final int TOKENS = 256;

  private LoraRecoveryRunner runner;
  private RankConfig ranks;
  private RecoveredModel recovered;
  private ZeroShotEvaluator<RecoveredModel> evaluator;

  @Setup(Level.Trial)
  public void setUp() {
    Nd4jRuntime.ensureInitialized();
    LlamaConfig config = LlamaConfig.uniform(64, 5, 8, 4, 172, 512, 512, true);
    LlamaModel model = LlamaModel.randomInit(config, 1, DataType.FLOAT);
    SplittableRandom random = new SplittableRandom(3);
    List<TrainingExample> examples = new ArrayList<>();
    for (int i = 0; i < 2 * STEPS * 8; i++) {
      examples.add(window(random, TOKENS, config.vocabSize()));
    }
    TrainingData validation = TrainingData.of(List.of(window(random, 16, config.vocabSize())));
    RecoverySettings tiny = RecoverySettings.tiny();
    RecoverySettings settings = new RecoverySettings(tiny.learningRate(), 1, STEPS, 8, 4, 1, TOKENS, 0.0, 0,
        1.0, tiny.decay(), tiny.dropout(), tiny.alpha(), tiny.targets(), tiny.divergenceFactor());
    runner = LoraRecoveryRunner.builder(model, TrainingData.of(examples), validation).settings(settings).build();
    ranks = RankConfig.of(8, 4, 12, 6, 8);
    recovered = runner.recover(ranks, 5);

    List<MultipleChoiceItem> items = new ArrayList<>();
    for (int i = 0; i < ITEMS; i++) {
      items.add(MultipleChoiceItem.ofChoices("q" + i,
          "Question: How can I keep the bread in tin " + i + " fresh for a week?\nAnswer:",
          List.of("Wrap it in a clean cloth and keep it in the box " + (i % 7) + ".",
              "Leave it on the window sill in the sun all day " + (i % 5) + "."),
          i % 2));
    }
    evaluator = ZeroShotEvaluator.<RecoveredModel>builder(ZeroShotTask.PIQA, items, new ByteTokens(), m -> new LlamaScoring(m.model(), m.adapters(), 64))
        .batchSize(64)
        .build();
  }

  private static TrainingExample window(SplittableRandom random, int length, int vocab) {
    int[] tokens = random.ints(length, 0, vocab).toArray();
    boolean[] mask = new boolean[length];
    Arrays.fill(mask, 1, length, true);
    return new TrainingExample(tokens, mask);
  }

  /** One LoRA recovery of {@value #STEPS} steps: 8192 training tokens. */
  @Benchmark
  public RecoveredModel recover() {
    return runner.recover(ranks, 5);
  }

  /** Zero-shot evaluation of {@value #ITEMS} items (128 scored continuations). */
  @Benchmark
  public Evaluation evaluate() {
    return evaluator.evaluate(recovered);
  }

  /** One token per UTF-8 byte (id 3 + byte), 0 unknown, 1 BOS, 2 EOS: enough to drive the evaluator. */
  private static final class ByteTokens implements Tokenizer {
    @Override
    public int vocabSize() {
      return 259;
    }

    @Override
    public int bosId() {
      return 1;
    }

    @Override
    public int eosId() {
      return 2;
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean addEos) {
      byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
      int[] ids = new int[bytes.length + (addBos ? 1 : 0) + (addEos ? 1 : 0)];
      int k = 0;
      if (addBos) {
        ids[k++] = 1;
      }
      for (byte b : bytes) {
        ids[k++] = 3 + (b & 0xff);
      }
      if (addEos) {
        ids[k] = 2;
      }
      return ids;
    }

    @Override
    public String decode(int[] ids) {
      StringBuilder sb = new StringBuilder();
      for (int id : ids) {
        if (id >= 3) {
          sb.append((char) (id - 3));
        }
      }
      return sb.toString();
    }
  }
}
