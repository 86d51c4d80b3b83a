package org.rankadaptor.dl4j.llama;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.io.LoraTarget;

/**
 * The LoRA adapters of a whole model: for every layer, an adapter on each targeted projection, or none
 * where the layer's rank is 0. The base weights stay frozen; only the adapters' A and B are trained. The
 * same structure also carries the gradients of A and B (see {@link LlamaModel#loraGradients}).
 *
 * @since 0.1.0
 */
public final class LoraAdapters {

  private final List<Map<LoraTarget, LoraAdapter>> layers;
  private final double dropout;

  private LoraAdapters(List<Map<LoraTarget, LoraAdapter>> layers, double dropout) {
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("LoRA dropout " + dropout + " outside [0, 1)");
    }
    List<Map<LoraTarget, LoraAdapter>> copy = new ArrayList<>(layers.size());
    for (Map<LoraTarget, LoraAdapter> layer : layers) {
      copy.add(
          Collections.unmodifiableMap(
              layer.isEmpty() ? new EnumMap<>(LoraTarget.class) : new EnumMap<>(layer)));
    }
    this.layers = Collections.unmodifiableList(copy);
    this.dropout = dropout;
  }

  /**
   * Adapters given explicitly (for example read from a PEFT file).
   *
   * @param layers per layer, the adapters by target; an empty map for a layer without adapters
   * @param dropout probability of zeroing an element of the LoRA input path during training
   */
  public static LoraAdapters of(List<Map<LoraTarget, LoraAdapter>> layers, double dropout) {
    return new LoraAdapters(layers, dropout);
  }

  /**
   * Freshly initialised adapters as PEFT makes them: A kaiming-uniform, i.e. uniform in {@code
   * ±1/sqrt(in)}, B zero, scaling alpha/rank. Each (layer, target) draws from its own stream derived from
   * {@code seed}, so a layer's initial A does not depend on the ranks chosen for other layers.
   *
   * @param ranks one rank per layer; 0 means no adapter on that layer
   * @param alphas one alpha per layer
   * @param targets the projections to adapt
   * @param dropout LoRA dropout probability during training
   */
  public static LoraAdapters init(
      LlamaConfig config,
      int[] ranks,
      double[] alphas,
      Set<LoraTarget> targets,
      double dropout,
      long seed,
      DataType dtype) {
    if (ranks.length != config.nLayers() || alphas.length != config.nLayers()) {
      throw new IllegalArgumentException(
          "need one rank and one alpha per layer (" + config.nLayers() + "), got " + ranks.length
              + " ranks and " + alphas.length + " alphas");
    }
    List<Map<LoraTarget, LoraAdapter>> layers = new ArrayList<>();
    for (int l = 0; l < ranks.length; l++) {
      int rank = ranks[l];
      if (rank < 0) {
        throw new IllegalArgumentException("layer " + l + " has negative rank " + rank);
      }
      if (rank > 0 && rank > maxRank(config, l, targets)) {
        throw new IllegalArgumentException("layer " + l + " has rank " + rank + ", more than its smallest targeted "
            + "projection dimension " + maxRank(config, l, targets) + " (a higher rank adds parameters, not capacity)");
      }
      Map<LoraTarget, LoraAdapter> adapters = new EnumMap<>(LoraTarget.class);
      for (LoraTarget target : rank == 0 ? EnumSet.noneOf(LoraTarget.class) : targets) {
        int in = config.layer(l).inFeatures(target, config.dim());
        int out = config.layer(l).outFeatures(target, config.dim());
        SplittableRandom random = new SplittableRandom(streamSeed(seed, l, target));
        double bound = 1.0 / Math.sqrt(in);
        double[] a = new double[rank * in];
        for (int i = 0; i < a.length; i++) {
          a[i] = (2 * random.nextDouble() - 1) * bound;
        }
        INDArray aArray = Nd4j.create(a, new long[] {rank, in}, DataType.DOUBLE).castTo(dtype);
        adapters.put(target, new LoraAdapter(aArray, Nd4j.zeros(dtype, out, rank), alphas[l] / rank));
      }
      layers.add(adapters);
    }
    return new LoraAdapters(layers, dropout);
  }

  /** Adapters on all seven projections with one alpha for every layer and no dropout. */
  public static LoraAdapters init(
      LlamaConfig config, int[] ranks, double alpha, long seed, DataType dtype) {
    double[] alphas = new double[ranks.length];
    java.util.Arrays.fill(alphas, alpha);
    return init(config, ranks, alphas, EnumSet.allOf(LoraTarget.class), 0.0, seed, dtype);
  }

  /**
   * The highest useful rank of layer {@code layer}: the smallest input or output dimension among the
   * targeted projections. A product B A of rank above it has no more capacity, only more parameters.
   */
  public static int maxRank(LlamaConfig config, int layer, Set<LoraTarget> targets) {
    int max = Integer.MAX_VALUE;
    for (LoraTarget target : targets) {
      max = Math.min(max, Math.min(config.layer(layer).inFeatures(target, config.dim()),
          config.layer(layer).outFeatures(target, config.dim())));
    }
    return max;
  }

  /**
   * Trainable parameters that one unit of rank costs in each layer: for every targeted projection
   * {@code in -> out}, one row of A and one column of B, {@code in + out}. Layers of a pruned model differ,
   * so equal ranks do not mean equal cost; {@code org.rankadaptor.ParameterBudget} takes this vector.
   */
  public static long[] parametersPerRank(LlamaConfig config, Set<LoraTarget> targets) {
    long[] perRank = new long[config.nLayers()];
    for (int l = 0; l < perRank.length; l++) {
      for (LoraTarget target : targets) {
        perRank[l] += config.layer(l).inFeatures(target, config.dim()) + config.layer(l).outFeatures(target, config.dim());
      }
    }
    return perRank;
  }

  private static long streamSeed(long seed, int layer, LoraTarget target) {
    return seed + 0x9E3779B97F4A7C15L * (layer * 16L + target.ordinal() + 1);
  }

  /** Number of layers. */
  public int nLayers() {
    return layers.size();
  }

  /** The adapters of layer {@code layer} by target; empty when the layer has none. */
  public Map<LoraTarget, LoraAdapter> layer(int layer) {
    return layers.get(layer);
  }

  /** The adapter on one projection, or null. */
  public LoraAdapter get(int layer, LoraTarget target) {
    return layers.get(layer).get(target);
  }

  /** LoRA dropout probability applied during training. */
  public double dropout() {
    return dropout;
  }

  /** Number of trainable parameters (all A and B elements). */
  public long parameterCount() {
    long count = 0;
    for (Map<LoraTarget, LoraAdapter> layer : layers) {
      for (LoraAdapter adapter : layer.values()) {
        count += adapter.a().length() + adapter.b().length();
      }
    }
    return count;
  }
}
