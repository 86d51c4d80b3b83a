package org.rankadaptor.dl4j.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.rankadaptor.dl4j.llama.LlamaCheckpointsTest.PRUNED;
import static org.rankadaptor.dl4j.llama.LlamaCheckpointsTest.TOKENS;
import static org.rankadaptor.dl4j.llama.LlamaCheckpointsTest.floats;

import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.io.LoraTarget;

/** Folding adapters into the base weights. */
class LoraMergeTest {

  private static double[] doubles(org.nd4j.linalg.api.ndarray.INDArray array) {
    return Nd4j.toFlattened('c', array).toDoubleVector();
  }

  @Test
  void mergedModelMatchesBasePlusAdapterInFloat64() {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 51, DataType.DOUBLE);
    LoraAdapters adapters = PeftAdaptersTest.trainedLookingAdapters(PRUNED, new int[] {2, 0, 3},
        new double[] {16, 0, 6}, EnumSet.allOf(LoraTarget.class), 52, DataType.DOUBLE);
    double[] before = doubles(model.weights().layers().get(0).wq());
    LlamaModel merged = LoraMerge.merge(model, adapters);

    double[] expected = doubles(model.logits(TOKENS, adapters));
    double[] actual = doubles(merged.logits(TOKENS, null));
    double[] base = doubles(model.logits(TOKENS, null));
    double change = 0;
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], 1e-10);
      change = Math.max(change, Math.abs(expected[i] - base[i]));
    }
    assertTrue(change > 1e-2, "the adapter must matter, max change " + change);
    assertArrayEquals(before, doubles(model.weights().layers().get(0).wq()), "the base model is unchanged");
    assertSame(model.weights().layers().get(1).wq(), merged.weights().layers().get(1).wq(),
        "a layer without adapters keeps its tensors");
    assertSame(model.weights().tokenEmbedding(), merged.weights().tokenEmbedding());
  }

  @Test
  void mergedModelMatchesBasePlusAdapterInFloat32() {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 53, DataType.FLOAT);
    LoraAdapters adapters = PeftAdaptersTest.trainedLookingAdapters(PRUNED, new int[] {4, 1, 2},
        new double[] {8, 2, 4}, EnumSet.of(LoraTarget.Q, LoraTarget.V, LoraTarget.UP, LoraTarget.DOWN), 54,
        DataType.FLOAT);
    float[] expected = floats(model.logits(TOKENS, adapters));
    float[] actual = floats(LoraMerge.merge(model, adapters).logits(TOKENS, null));
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], 1e-4 * Math.max(1, Math.abs(expected[i])));
    }
  }

  @Test
  void rejectsAdaptersOfAnotherModel() {
    LlamaModel model = LlamaModel.randomInit(PRUNED, 55, DataType.FLOAT);
    LlamaConfig twoLayers = PRUNED.withLayers(List.of(PRUNED.layer(0), PRUNED.layer(1)));
    LoraAdapters adapters = LoraAdapters.init(twoLayers, new int[] {2, 2}, 4, 1, DataType.FLOAT);
    assertThrows(IllegalArgumentException.class, () -> LoraMerge.merge(model, adapters));
  }
}
