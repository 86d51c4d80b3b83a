package org.rankadaptor.dl4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LlamaModel;

/**
 * A vocabulary large enough that windows are split over several forward passes and each window's rows
 * over several float64 blocks; the results must not depend on that split.
 */
class LlamaScoringChunkingTest {

  @Test
  void largeVocabularyWindowsMatchALogSoftmaxOfTheirOwnLogits() {
    int vocab = 40_000;
    LlamaModel model = LlamaModel.randomInit(LlamaConfig.uniform(8, 1, 2, 1, 12, vocab, 64, true), 3, DataType.FLOAT);
    int length = 60;
    assertTrue(LlamaScoring.MAX_DOUBLES_PER_CHUNK / vocab < length - 1, "rows must span several blocks");
    assertTrue(LlamaScoring.MAX_LOGITS_PER_BATCH / ((long) length * vocab) < 5, "windows must span several passes");
    SplittableRandom random = new SplittableRandom(9);
    List<int[]> windows = new ArrayList<>();
    for (int w = 0; w < 5; w++) {
      windows.add(random.ints(length - w, 0, vocab).toArray());
    }
    List<double[]> got = new LlamaScoring(model, null, 8).logProbs(windows);
    for (int w = 0; w < windows.size(); w++) {
      int[] window = windows.get(w);
      INDArray logits = model.logits(new int[][] {java.util.Arrays.copyOf(window, window.length - 1)}, null);
      for (int pos = 0; pos + 1 < window.length; pos++) {
        double[] row = logits.get(
            org.nd4j.linalg.indexing.NDArrayIndex.point(0), org.nd4j.linalg.indexing.NDArrayIndex.point(pos),
            org.nd4j.linalg.indexing.NDArrayIndex.all()).toDoubleVector();
        double max = java.util.Arrays.stream(row).max().orElseThrow();
        double sum = java.util.Arrays.stream(row).map(x -> Math.exp(x - max)).sum();
        assertEquals(row[window[pos + 1]] - max - Math.log(sum), got.get(w)[pos], 1e-5, "window " + w + " pos " + pos);
      }
    }
  }
}
