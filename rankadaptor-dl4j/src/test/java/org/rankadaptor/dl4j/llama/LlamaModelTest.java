package org.rankadaptor.dl4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.rankadaptor.dl4j.io.LoraTarget;

/** Batching, scoring, generation and adapter construction on a small model with uneven layers. */
class LlamaModelTest {

  private static final LlamaConfig CONFIG = LlamaGradientTest.CONFIG;
  private final LlamaModel model = LlamaModel.randomInit(CONFIG, 21, DataType.DOUBLE);
  private final LoraAdapters lora = LlamaGradientTest.adapters(CONFIG, new int[] {2, 0, 3}, 0.0, 5);

  @Test
  void paddedBatchEqualsEachSequenceAlone() {
    int[][] sequences = {{1, 5, 7, 3, 18, 2, 9}, {1, 4}, {1, 12, 6, 6, 8}};
    INDArray batched = model.logits(sequences, lora);
    for (int b = 0; b < sequences.length; b++) {
      INDArray alone = model.logits(new int[][] {sequences[b]}, lora);
      for (int t = 0; t < sequences[b].length; t++) {
        for (int v = 0; v < CONFIG.vocabSize(); v++) {
          assertEquals(alone.getDouble(0, t, v), batched.getDouble(b, t, v), 1e-10);
        }
      }
    }
  }

  @Test
  void continuationScoresAreSumsOfLogSoftmax() {
    int[] tokens = {1, 5, 7, 3, 18, 2, 9};
    INDArray logits = model.logits(new int[][] {tokens}, null);
    INDArray logProbs = Transforms.softmax(logits.get(
        org.nd4j.linalg.indexing.NDArrayIndex.point(0),
        org.nd4j.linalg.indexing.NDArrayIndex.all(),
        org.nd4j.linalg.indexing.NDArrayIndex.all()).dup(), true);
    Transforms.log(logProbs, false);
    double expected = 0;
    boolean greedy = true;
    for (int t = 3; t < tokens.length; t++) {
      expected += logProbs.getDouble(t - 1, tokens[t]);
      greedy &= Nd4j.argMax(logProbs.getRow(t - 1)).getInt(0) == tokens[t];
    }
    List<ContinuationRequest> requests =
        List.of(
            new ContinuationRequest(new int[] {1, 4}, new int[] {11}),
            new ContinuationRequest(Arrays.copyOf(tokens, 3), Arrays.copyOfRange(tokens, 3, 7)));
    List<ContinuationScore> scores = model.scoreContinuations(requests, null);
    assertEquals(expected, scores.get(1).logLikelihood(), 1e-10);
    assertEquals(greedy, scores.get(1).greedy());
    ContinuationScore alone = model.scoreContinuations(requests.subList(0, 1), null).get(0);
    assertEquals(alone.logLikelihood(), scores.get(0).logLikelihood(), 1e-10);
  }

  @Test
  void overlongRequestsKeepTheirRightEnd() {
    int[] context = new int[CONFIG.maxSeqLen() + 5];
    Arrays.fill(context, 3);
    ContinuationScore truncated =
        model.scoreContinuations(List.of(new ContinuationRequest(context, new int[] {4, 5})), null).get(0);
    int[] kept = Arrays.copyOfRange(context, context.length - (CONFIG.maxSeqLen() - 1), context.length);
    ContinuationScore direct =
        model.scoreContinuations(List.of(new ContinuationRequest(kept, new int[] {4, 5})), null).get(0);
    assertEquals(direct.logLikelihood(), truncated.logLikelihood(), 1e-10);
  }

  @Test
  void cachedGreedyGenerationMatchesFullForwardArgmax() {
    int[] prompt = {1, 5, 7};
    int[] generated = new LlamaGenerator(model).generate(prompt, GenerationSettings.greedy(6), lora);
    int[] sequence = prompt.clone();
    for (int next : generated) {
      INDArray logits = model.logits(new int[][] {sequence}, lora);
      INDArray last = logits.get(
          org.nd4j.linalg.indexing.NDArrayIndex.point(0),
          org.nd4j.linalg.indexing.NDArrayIndex.point(sequence.length - 1),
          org.nd4j.linalg.indexing.NDArrayIndex.all());
      assertEquals(Nd4j.argMax(last).getInt(0), next);
      sequence = Arrays.copyOf(sequence, sequence.length + 1);
      sequence[sequence.length - 1] = next;
    }
    assertTrue(generated.length <= 6);
  }

  @Test
  void samplingFollowsTheSeed() {
    GenerationSettings hot = new GenerationSettings(10, 1.5, 0.9, 42);
    int[] a = new LlamaGenerator(model).generate(new int[] {1}, hot, null);
    int[] b = new LlamaGenerator(model).generate(new int[] {1}, hot, null);
    assertArrayEquals(a, b);
    boolean differs = false;
    for (long seed = 43; seed < 48 && !differs; seed++) {
      differs = !Arrays.equals(a, new LlamaGenerator(model).generate(new int[] {1}, new GenerationSettings(10, 1.5, 0.9, seed), null));
    }
    assertTrue(differs, "five other seeds all reproduced the same sample");
  }

  @Test
  void batchedGenerationGivesEachSequenceItsOwnContinuation() {
    int[] prompt = {1, 5, 7};
    List<GenerationSettings> settings = List.of(
        new GenerationSettings(8, 1.5, 0.9, 42), GenerationSettings.greedy(5),
        new GenerationSettings(0, 1.0, 1.0, 3), new GenerationSettings(12, 1.0, 1.0, 7));
    List<int[]> batched = new LlamaGenerator(model).generate(prompt, settings, lora);
    assertEquals(settings.size(), batched.size());
    for (int i = 0; i < settings.size(); i++) {
      assertArrayEquals(new LlamaGenerator(model).generate(prompt, settings.get(i), lora), batched.get(i), "sequence " + i);
      assertTrue(batched.get(i).length <= settings.get(i).maxNewTokens());
    }
    assertEquals(0, batched.get(2).length);
  }

  @Test
  void nucleusSamplingNeverLeavesTheNucleus() {
    double[] logits = {5, 4, 0, -1, -2};
    GenerationSettings narrow = new GenerationSettings(1, 1.0, 0.5, 0);
    java.util.SplittableRandom random = new java.util.SplittableRandom(9);
    for (int i = 0; i < 200; i++) {
      assertEquals(0, Sampler.of(narrow, random).sample(logits));
    }
    GenerationSettings wide = new GenerationSettings(1, 1.0, 0.99, 0);
    boolean sawSecond = false;
    for (int i = 0; i < 200; i++) {
      int token = Sampler.of(wide, random).sample(logits);
      assertTrue(token < 4, "token " + token + " lies outside the 0.99 nucleus");
      sawSecond |= token == 1;
    }
    assertTrue(sawSecond);
  }

  @Test
  void freshAdaptersFollowPeft() {
    LoraAdapters fresh =
        LoraAdapters.init(CONFIG, new int[] {4, 0, 2}, new double[] {8, 8, 4},
            EnumSet.of(LoraTarget.Q, LoraTarget.DOWN), 0.05, 17, DataType.FLOAT);
    assertEquals(2, fresh.layer(0).size());
    assertTrue(fresh.layer(1).isEmpty());
    LoraAdapter down = fresh.get(2, LoraTarget.DOWN);
    int in = CONFIG.layer(2).hiddenDim();
    assertArrayEquals(new long[] {2, in}, down.a().shape());
    assertArrayEquals(new long[] {CONFIG.dim(), 2}, down.b().shape());
    assertEquals(2.0, down.scaling());
    assertEquals(0.0, down.b().sumNumber().doubleValue());
    assertTrue(down.a().amaxNumber().doubleValue() <= 1 / Math.sqrt(in));
    assertTrue(down.a().amaxNumber().doubleValue() > 0.5 / Math.sqrt(in));
    // Same seed, same A; a layer's A does not depend on other layers' ranks.
    LoraAdapters again =
        LoraAdapters.init(CONFIG, new int[] {1, 3, 2}, new double[] {8, 8, 4},
            EnumSet.of(LoraTarget.Q, LoraTarget.DOWN), 0.05, 17, DataType.FLOAT);
    assertEquals(down.a(), again.get(2, LoraTarget.DOWN).a());
    LoraAdapters otherSeed =
        LoraAdapters.init(CONFIG, new int[] {4, 0, 2}, new double[] {8, 8, 4},
            EnumSet.of(LoraTarget.Q, LoraTarget.DOWN), 0.05, 18, DataType.FLOAT);
    assertNotEquals(down.a(), otherSeed.get(2, LoraTarget.DOWN).a());
    // A fresh adapter (B = 0) leaves the model's output unchanged.
    LlamaModel floatModel = LlamaModel.randomInit(CONFIG, 21, DataType.FLOAT);
    int[][] tokens = {{1, 2, 3, 4}};
    assertEquals(floatModel.logits(tokens, null), floatModel.logits(tokens, fresh));
  }

  @Test
  void rotateHalfRowsMoveToInterleavedPairs() {
    int heads = 3, headDim = 4, in = 5;
    INDArray hf = Nd4j.rand(DataType.DOUBLE, heads * headDim, in);
    INDArray interleaved = RotaryLayout.fromRotateHalf(hf, heads, headDim);
    for (int h = 0; h < heads; h++) {
      for (int i = 0; i < headDim / 2; i++) {
        for (int half = 0; half < 2; half++) {
          assertEquals(hf.getRow(h * headDim + half * headDim / 2 + i),
              interleaved.getRow(h * headDim + 2 * i + half));
        }
      }
    }
    assertEquals(hf, RotaryLayout.toRotateHalf(interleaved, heads, headDim));
  }

  @Test
  void rejectsMismatchedInputs() {
    assertThrows(IllegalArgumentException.class, () -> model.logits(new int[][] {{1, 99}}, null));
    assertThrows(IllegalArgumentException.class, () -> new LayerShape(3, 2, 4, 8));
    assertThrows(IllegalArgumentException.class, () -> new LayerShape(2, 1, 3, 8));
    List<LayerWeights> layers = new ArrayList<>(model.weights().layers());
    layers.set(1, layers.get(0));
    LlamaWeights wrong = new LlamaWeights(model.weights().tokenEmbedding(), layers,
        model.weights().finalNorm(), model.weights().classifier());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new LlamaModel(CONFIG, wrong));
    assertTrue(e.getMessage().contains("layer 1"), e.getMessage());
    assertFalse(model.config().tiedClassifier());
  }
}
