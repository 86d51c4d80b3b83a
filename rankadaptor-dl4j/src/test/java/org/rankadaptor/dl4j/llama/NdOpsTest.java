package org.rankadaptor.dl4j.llama;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.rankadaptor.dl4j.io.LoraTarget;

/**
 * The ND4J-operation formulation that non-CPU backends run, forced on the CPU and held equal to the
 * fused loops: the whole model's logits, loss, LoRA and full-weight gradients on the float64 test
 * model whose layers all differ (padded sequences, a loss mask, grouped-query attention), and greedy
 * generation, which attends from a key cache at later positions.
 */
class NdOpsTest {

  @AfterEach
  void decideAgain() {
    Kernels.useFused(null);
  }

  private static double[] flat(INDArray a) {
    return a.ravel().toDoubleVector();
  }

  private static <T> T with(boolean fused, Supplier<T> computation) {
    Kernels.useFused(fused);
    try {
      return computation.get();
    } finally {
      Kernels.useFused(null);
    }
  }

  @Test
  void theCpuBackendRunsTheFusedLoopsByDefault() {
    assertThat(Kernels.fused()).isTrue();
  }

  @Test
  void logitsLossAndGradientsAreTheFusedLoopsOnes() {
    LlamaModel model = LlamaModel.randomInit(LlamaGradientTest.CONFIG, 7, DataType.DOUBLE);
    LoraAdapters lora = LlamaGradientTest.adapters(LlamaGradientTest.CONFIG, new int[] {2, 0, 3}, 0.0, 11);
    LlamaBatch batch = LlamaGradientTest.batch();
    int[][] sequences = {{1, 5, 7, 3, 18, 2, 9}, {1, 4, 11, 0, 3, 3, 2}};

    INDArray fusedLogits = with(true, () -> model.logits(sequences, lora));
    INDArray opsLogits = with(false, () -> model.logits(sequences, lora));
    assertArrayEquals(flat(fusedLogits), flat(opsLogits), 1e-10);

    LoraGradients fused = with(true, () -> model.loraGradients(batch, lora, 0));
    LoraGradients ops = with(false, () -> model.loraGradients(batch, lora, 0));
    assertEquals(fused.loss(), ops.loss(), 1e-10);
    for (int l = 0; l < LlamaGradientTest.CONFIG.nLayers(); l++) {
      for (Map.Entry<LoraTarget, LoraAdapter> e : fused.gradients().layer(l).entrySet()) {
        LoraAdapter other = ops.gradients().get(l, e.getKey());
        assertArrayEquals(flat(e.getValue().a()), flat(other.a()), 1e-10, "dA " + l + e.getKey());
        assertArrayEquals(flat(e.getValue().b()), flat(other.b()), 1e-10, "dB " + l + e.getKey());
      }
    }

    WeightGradients fullFused = with(true, () -> model.fullWeightGradients(batch));
    WeightGradients fullOps = with(false, () -> model.fullWeightGradients(batch));
    assertEquals(fullFused.loss(), fullOps.loss(), 1e-10);
    assertArrayEquals(flat(fullFused.gradients().tokenEmbedding()),
        flat(fullOps.gradients().tokenEmbedding()), 1e-10);
    for (int l = 0; l < LlamaGradientTest.CONFIG.nLayers(); l++) {
      LayerWeights a = fullFused.gradients().layers().get(l);
      LayerWeights b = fullOps.gradients().layers().get(l);
      assertArrayEquals(flat(a.attnNorm()), flat(b.attnNorm()), 1e-10, "attnNorm " + l);
      assertArrayEquals(flat(a.wq()), flat(b.wq()), 1e-10, "wq " + l);
      assertArrayEquals(flat(a.gate()), flat(b.gate()), 1e-10, "gate " + l);
    }
  }

  @Test
  void greedyGenerationFromTheKeyCacheIsTheFusedLoopsOne() {
    LlamaModel model = LlamaModel.randomInit(LlamaGradientTest.CONFIG, 9, DataType.DOUBLE);
    int[] prompt = {1, 5, 7};
    int[] fused = with(true, () -> new LlamaGenerator(model).generate(prompt, GenerationSettings.greedy(8), null));
    int[] ops = with(false, () -> new LlamaGenerator(model).generate(prompt, GenerationSettings.greedy(8), null));
    assertArrayEquals(fused, ops);
  }
}
