package org.rankadaptor.dl4j.prune;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.llama.LayerWeights;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LlamaWeights;
import org.rankadaptor.dl4j.llama.WeightGradients;

/**
 * Projection gradients of chosen layers over a calibration set, from one backward pass per sample.
 * Accumulating sample by sample bounds the activations held to one sample's (the classifier's logits and
 * their gradient dominate with a large vocabulary), and yields the Fisher diagonal on the way.
 *
 * @param mean gradient of the mean next-token loss over all calibration tokens: the token-weighted mean
 *     of the per-sample gradients, which equals the gradient of the whole batch's loss
 * @param fisher the diagonal Fisher estimate {@code sum_j g_j^2 / N} over the N per-sample gradients;
 *     empty unless requested
 */
record CalibrationGradients(
    Map<Integer, Map<LoraTarget, INDArray>> mean,
    Map<Integer, Map<LoraTarget, INDArray>> fisher) {

  /**
   * Computes the gradients of layers {@code first..last} (inclusive).
   *
   * @param withFisher whether to accumulate the squared per-sample gradients too
   */
  static CalibrationGradients of(
      LlamaModel model, CalibrationSet calibration, int first, int last, boolean withFisher) {
    int n = calibration.size();
    Map<Integer, Map<LoraTarget, INDArray>> sum = new HashMap<>();
    Map<Integer, Map<LoraTarget, INDArray>> squares = new HashMap<>();
    long targets = 0;
    for (int j = 0; j < n; j++) {
      WeightGradients g = model.fullWeightGradients(calibration.batch(j));
      targets += g.targetCount();
      for (int l = first; l <= last; l++) {
        var layerSum = sum.computeIfAbsent(l, k -> new EnumMap<>(LoraTarget.class));
        var layerSquares =
            squares.computeIfAbsent(l, k -> new EnumMap<>(LoraTarget.class));
        for (LoraTarget t : LoraTarget.values()) {
          INDArray gj = g.gradients().layers().get(l).projection(t);
          if (withFisher) {
            layerSquares.merge(t, gj.mul(gj).divi(n), INDArray::addi);
          }
          // Scaling by the sample's token count before averaging over all tokens gives the batch gradient.
          layerSum.merge(t, gj.mul(g.targetCount()), INDArray::addi);
        }
      }
      release(g.gradients());
    }
    long total = targets;
    sum.values().forEach(layer -> layer.values().forEach(a -> a.divi(total)));
    return new CalibrationGradients(sum, withFisher ? squares : Map.of());
  }

  /**
   * Frees a sample's gradients at once rather than when the garbage collector finds them: off-heap
   * buffers the heap does not see would otherwise pile up over the samples (the embedding's gradient
   * alone is vocabulary x dim).
   */
  private static void release(LlamaWeights gradients) {
    Set<INDArray> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    List<INDArray> arrays = new ArrayList<>();
    arrays.add(gradients.tokenEmbedding());
    arrays.add(gradients.classifier());
    arrays.add(gradients.finalNorm());
    for (LayerWeights l : gradients.layers()) {
      arrays.addAll(
          List.of(l.attnNorm(), l.wq(), l.wk(), l.wv(), l.wo(), l.ffnNorm(), l.gate(), l.up(), l.down()));
    }
    for (INDArray a : arrays) {
      if (seen.add(a) && a.closeable()) {
        a.close();
      }
    }
  }
}
