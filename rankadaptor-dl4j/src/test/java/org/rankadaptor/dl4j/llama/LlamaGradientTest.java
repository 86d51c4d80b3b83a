package org.rankadaptor.dl4j.llama;

import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.testing.FiniteDifferences;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Whole-model gradients against finite differences on a small float64 model whose layers all differ
 * (heads, kv heads, MLP width, LoRA rank), with padded sequences and a loss mask.
 */
class LlamaGradientTest {

  static final LlamaConfig CONFIG =
      new LlamaConfig(
          12, 19, 1e-5, 10000.0, false, 16,
          List.of(
              new LayerShape(4, 2, 4, 10), new LayerShape(2, 1, 4, 7), new LayerShape(3, 3, 4, 9)));

  /** Three sequences of different lengths; the first has its first two targets masked out. */
  static LlamaBatch batch() {
    int[][] sequences = {{1, 5, 7, 3, 18, 2, 9}, {1, 4, 11, 0}, {1, 12, 6, 6, 8}};
    boolean[][] mask = new boolean[3][];
    for (int b = 0; b < 3; b++) {
      mask[b] = new boolean[sequences[b].length];
      java.util.Arrays.fill(mask[b], true);
    }
    mask[0][1] = false;
    mask[0][2] = false;
    return new LlamaBatch(sequences, mask);
  }

  /** Adapters with random B (fresh adapters have B = 0, which makes dA vanish). */
  static LoraAdapters adapters(LlamaConfig config, int[] ranks, double dropout, long seed) {
    LoraAdapters fresh =
        LoraAdapters.init(config, ranks, new double[] {16, 0, 6}, EnumSet.allOf(LoraTarget.class),
            dropout, seed, DataType.DOUBLE);
    SplittableRandom random = new SplittableRandom(seed);
    List<Map<LoraTarget, LoraAdapter>> layers = new ArrayList<>();
    for (int l = 0; l < fresh.nLayers(); l++) {
      Map<LoraTarget, LoraAdapter> layer = new EnumMap<>(LoraTarget.class);
      fresh.layer(l).forEach(
          (t, a) -> layer.put(
              t, new LoraAdapter(a.a(), FiniteDifferences.random(random, a.b().shape()).muli(0.3),
                  a.scaling())));
      layers.add(layer);
    }
    return LoraAdapters.of(layers, dropout);
  }

  @Test
  void loraGradientsMatchFiniteDifferences() {
    LlamaModel model = LlamaModel.randomInit(CONFIG, 7, DataType.DOUBLE);
    LoraAdapters lora = adapters(CONFIG, new int[] {2, 0, 3}, 0.0, 11);
    LlamaBatch batch = batch();
    LoraGradients result = model.loraGradients(batch, lora, 0);
    assertEquals(model.loss(batch, lora), result.loss(), 1e-12);
    assertEquals(batch.targetCount(), result.targetCount());
    assertEquals(0, result.gradients().layer(1).size(), "rank 0 means no adapter");
    SplittableRandom random = new SplittableRandom(3);
    for (int l = 0; l < CONFIG.nLayers(); l++) {
      for (Map.Entry<LoraTarget, LoraAdapter> e : lora.layer(l).entrySet()) {
        LoraAdapter grad = result.gradients().get(l, e.getKey());
        String name = "layer " + l + " " + e.getKey();
        FiniteDifferences.check(name + " A", e.getValue().a(), grad.a(),
            () -> model.loss(batch, lora), 2, random);
        FiniteDifferences.check(name + " B", e.getValue().b(), grad.b(),
            () -> model.loss(batch, lora), 2, random);
      }
    }
  }

  @Test
  void fullWeightGradientsMatchFiniteDifferencesUntiedAndTied() {
    for (boolean tied : new boolean[] {false, true}) {
      LlamaConfig config =
          new LlamaConfig(CONFIG.dim(), CONFIG.vocabSize(), 1e-5, 10000.0, tied, 16, CONFIG.layers());
      LlamaModel model = LlamaModel.randomInit(config, 5, DataType.DOUBLE);
      LlamaBatch batch = batch();
      WeightGradients result = model.fullWeightGradients(batch);
      LlamaWeights w = model.weights();
      LlamaWeights g = result.gradients();
      SplittableRandom random = new SplittableRandom(4);
      java.util.function.DoubleSupplier loss = () -> model.loss(batch, null);
      String kind = tied ? "tied " : "untied ";
      // Rows of tokens that occur, so that sampled embedding gradients are not all zero.
      for (int token : new int[] {1, 5, 6, 12}) {
        FiniteDifferences.check(kind + "embedding row " + token, w.tokenEmbedding().getRow(token),
            g.tokenEmbedding().getRow(token), loss, 2, random);
      }
      FiniteDifferences.check(kind + "classifier", w.classifier(), g.classifier(), loss, 6, random);
      FiniteDifferences.check(kind + "finalNorm", w.finalNorm(), g.finalNorm(), loss, 4, random);
      for (int l = 0; l < config.nLayers(); l++) {
        LayerWeights lw = w.layers().get(l);
        LayerWeights lg = g.layers().get(l);
        FiniteDifferences.check(kind + l + " attnNorm", lw.attnNorm(), lg.attnNorm(), loss, 2, random);
        FiniteDifferences.check(kind + l + " ffnNorm", lw.ffnNorm(), lg.ffnNorm(), loss, 2, random);
        for (LoraTarget t : LoraTarget.values()) {
          FiniteDifferences.check(kind + l + " " + t, lw.projection(t), lg.projection(t), loss, 2, random);
        }
      }
    }
  }

  @Test
  void dropoutMasksFollowTheSeed() {
    LlamaModel model = LlamaModel.randomInit(CONFIG, 7, DataType.DOUBLE);
    LoraAdapters lora = adapters(CONFIG, new int[] {2, 1, 3}, 0.4, 11);
    LlamaBatch batch = batch();
    LoraGradients first = model.loraGradients(batch, lora, 99);
    LoraGradients again = model.loraGradients(batch, lora, 99);
    LoraGradients other = model.loraGradients(batch, lora, 100);
    INDArray a1 = first.gradients().get(0, LoraTarget.Q).a();
    assertEquals(a1, again.gradients().get(0, LoraTarget.Q).a());
    assertNotEquals(a1, other.gradients().get(0, LoraTarget.Q).a());
    // The loss itself is computed with dropout active, so it differs from the dropout-free loss.
    assertNotEquals(model.loss(batch, lora), first.loss(), 1e-9);
  }
}
