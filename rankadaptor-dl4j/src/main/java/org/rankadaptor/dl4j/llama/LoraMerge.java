package org.rankadaptor.dl4j.llama;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;

/**
 * Folds LoRA adapters into the base weights, {@code W' = W + scaling * B A}, so that a recovered model runs
 * (and saves) without adapters at no extra cost per token.
 *
 * @since 0.1.0
 */
public final class LoraMerge {

  private LoraMerge() {}

  /**
   * A new model whose projections include the adapters' updates; its logits equal those of {@code model}
   * with {@code adapters} up to float rounding. Neither argument changes. Tensors the adapters do not touch
   * (embedding, norms, classifier, unadapted projections) are shared with {@code model}, which is safe
   * because models never modify their weights.
   *
   * @throws IllegalArgumentException when the adapters are for another number of layers or an adapter's
   *     shape does not fit its projection
   */
  public static LlamaModel merge(LlamaModel model, LoraAdapters adapters) {
    Nd4jRuntime.ensureInitialized();
    LlamaConfig config = model.config();
    if (adapters.nLayers() != config.nLayers()) {
      throw new IllegalArgumentException(
          "adapters for " + adapters.nLayers() + " layers on a " + config.nLayers() + "-layer model");
    }
    LlamaWeights base = model.weights();
    List<LayerWeights> layers = new ArrayList<>(config.nLayers());
    for (int l = 0; l < config.nLayers(); l++) {
      LayerWeights layer = base.layers().get(l);
      Map<LoraTarget, LoraAdapter> layerAdapters = adapters.layer(l);
      INDArray[] merged = new INDArray[LoraTarget.values().length];
      for (LoraTarget t : LoraTarget.values()) {
        INDArray w = layer.projection(t);
        LoraAdapter adapter = layerAdapters.get(t);
        merged[t.ordinal()] = adapter == null ? w : mergedProjection(l, t, w, adapter);
      }
      layers.add(new LayerWeights(
          layer.attnNorm(),
          merged[LoraTarget.Q.ordinal()],
          merged[LoraTarget.K.ordinal()],
          merged[LoraTarget.V.ordinal()],
          merged[LoraTarget.O.ordinal()],
          layer.ffnNorm(),
          merged[LoraTarget.GATE.ordinal()],
          merged[LoraTarget.UP.ordinal()],
          merged[LoraTarget.DOWN.ordinal()]));
    }
    return new LlamaModel(
        config, new LlamaWeights(base.tokenEmbedding(), layers, base.finalNorm(), base.classifier()));
  }

  private static INDArray mergedProjection(int layer, LoraTarget target, INDArray w, LoraAdapter adapter) {
    if (adapter.b().size(0) != w.size(0) || adapter.a().size(1) != w.size(1)) {
      throw new IllegalArgumentException("layer " + layer + " " + target.layerPath() + ": B "
          + java.util.Arrays.toString(adapter.b().shape()) + " A " + java.util.Arrays.toString(adapter.a().shape())
          + " do not fit W " + java.util.Arrays.toString(w.shape()));
    }
    INDArray b = adapter.b().castTo(w.dataType());
    INDArray a = adapter.a().castTo(w.dataType());
    // (out, rank) x (rank, in), scaled in place, added into a fresh copy of W
    INDArray update = Nd4j.gemm(b, a, false, false).muli(adapter.scaling());
    return w.dup('c').addi(update);
  }
}
