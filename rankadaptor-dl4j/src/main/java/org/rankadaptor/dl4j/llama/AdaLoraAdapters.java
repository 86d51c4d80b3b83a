package org.rankadaptor.dl4j.llama;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.dl4j.io.LoraTarget;

/**
 * The AdaLoRA adapters of a whole model: for every layer, an {@link SvdAdapter} on each adapted projection
 * (none on a layer that AdaLoRA did not adapt). {@link #toLora()} gives the same updates as plain LoRA
 * adapters of the kept ranks, which the model applies, merges and scores like any other.
 *
 * @since 0.1.0
 */
public final class AdaLoraAdapters {

  private final List<Map<LoraTarget, SvdAdapter>> layers;
  private final double dropout;

  private AdaLoraAdapters(List<Map<LoraTarget, SvdAdapter>> layers, double dropout) {
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("LoRA dropout " + dropout + " outside [0, 1)");
    }
    List<Map<LoraTarget, SvdAdapter>> copy = new ArrayList<>(layers.size());
    for (Map<LoraTarget, SvdAdapter> layer : layers) {
      copy.add(Collections.unmodifiableMap(
          layer.isEmpty() ? new EnumMap<>(LoraTarget.class) : new EnumMap<>(layer)));
    }
    this.layers = Collections.unmodifiableList(copy);
    this.dropout = dropout;
  }

  /**
   * Adapters given explicitly.
   *
   * @param layers per layer, the adapters by target; an empty map for a layer without adapters
   * @param dropout probability of zeroing an element of the adapter's input during training
   */
  public static AdaLoraAdapters of(List<Map<LoraTarget, SvdAdapter>> layers, double dropout) {
    return new AdaLoraAdapters(layers, dropout);
  }

  /** Number of layers. */
  public int nLayers() {
    return layers.size();
  }

  /** The adapters of one layer by target; empty when it has none. */
  public Map<LoraTarget, SvdAdapter> layer(int layer) {
    return layers.get(layer);
  }

  /** Dropout on the adapters' input during training. */
  public double dropout() {
    return dropout;
  }

  /** Number of adapted modules (layer and projection). */
  public int moduleCount() {
    return layers.stream().mapToInt(Map::size).sum();
  }

  /** Kept triplets of every module: the total budget AdaLoRA ended with. */
  public long keptTriplets() {
    return layers.stream().flatMap(l -> l.values().stream()).mapToLong(SvdAdapter::rank).sum();
  }

  /**
   * Parameters the kept triplets hold, {@code in + out + 1} each: what the adapters cost once the masked
   * triplets are dropped, as PEFT saves them.
   */
  public long keptParameterCount() {
    long count = 0;
    for (Map<LoraTarget, SvdAdapter> layer : layers) {
      for (SvdAdapter a : layer.values()) {
        count += a.rank() * (a.q().size(1) + a.p().size(0) + 1);
      }
    }
    return count;
  }

  /** Each layer's kept rank averaged over its adapted modules; 0 for a layer without adapters. */
  public double[] meanLayerRanks() {
    double[] out = new double[layers.size()];
    for (int l = 0; l < out.length; l++) {
      Map<LoraTarget, SvdAdapter> layer = layers.get(l);
      out[l] = layer.isEmpty() ? 0 : layer.values().stream().mapToInt(SvdAdapter::rank).average().orElse(0);
    }
    return out;
  }

  /**
   * The allocation AdaLoRA learned, as a configuration of RankAdaptor's space, so that LoRA with AdaLoRA's
   * ranks can be compared with other configurations at the same trainable-parameter budget: each searched
   * layer takes the candidate nearest its mean kept rank (the lower on a tie), each pinned layer its pinned
   * rank. While the space's budget is exceeded, the searched layer rounded up the most is lowered one
   * candidate.
   *
   * @throws IllegalArgumentException when the space has another depth
   */
  public RankConfig toRankConfig(RankSpace space) {
    if (space.numLayers() != layers.size()) {
      throw new IllegalArgumentException(
          "a space of " + space.numLayers() + " layers for adapters of " + layers.size());
    }
    double[] mean = meanLayerRanks();
    int[] ranks = new int[layers.size()];
    for (int l = 0; l < ranks.length; l++) {
      List<Integer> candidates = space.candidates(l);
      int best = candidates.get(0);
      for (int c : candidates) {
        if (Math.abs(c - mean[l]) < Math.abs(best - mean[l])
            || (Math.abs(c - mean[l]) == Math.abs(best - mean[l]) && c < best)) {
          best = c;
        }
      }
      ranks[l] = space.isPinned(l) ? candidates.get(0) : best;
    }
    while (!space.contains(RankConfig.of(ranks))) {
      int lower = -1;
      double excess = Double.NEGATIVE_INFINITY;
      for (int l : space.searchedLayers()) {
        List<Integer> candidates = space.candidates(l);
        int at = candidates.indexOf(ranks[l]);
        if (at > 0 && ranks[l] - mean[l] > excess) {
          excess = ranks[l] - mean[l];
          lower = l;
        }
      }
      if (lower < 0) { // a space's budget always admits its cheapest configuration
        throw new IllegalStateException("no configuration near AdaLoRA's ranks fits " + space.describe());
      }
      List<Integer> candidates = space.candidates(lower);
      ranks[lower] = candidates.get(candidates.indexOf(ranks[lower]) - 1);
    }
    return RankConfig.of(ranks);
  }

  /** The kept ranks as text: one group per layer, {@code q:5 k:3 ...}, layers separated by {@code |}. */
  public String describeRanks() {
    StringBuilder sb = new StringBuilder();
    for (int l = 0; l < layers.size(); l++) {
      if (l > 0) {
        sb.append(" | ");
      }
      StringBuilder layer = new StringBuilder();
      for (Map.Entry<LoraTarget, SvdAdapter> e : layers.get(l).entrySet()) {
        layer.append(layer.length() == 0 ? "" : " ").append(e.getKey().name().toLowerCase(java.util.Locale.ROOT))
            .append(':').append(e.getValue().rank());
      }
      sb.append(layer.length() == 0 ? "-" : layer);
    }
    return sb.toString();
  }

  /** The same updates as LoRA adapters of the kept ranks; a module with no kept triplet has no adapter. */
  public LoraAdapters toLora() {
    List<Map<LoraTarget, LoraAdapter>> out = new ArrayList<>(layers.size());
    for (Map<LoraTarget, SvdAdapter> layer : layers) {
      Map<LoraTarget, LoraAdapter> lora = new EnumMap<>(LoraTarget.class);
      layer.forEach((target, svd) -> {
        LoraAdapter adapter = svd.toLora();
        if (adapter != null) {
          lora.put(target, adapter);
        }
      });
      out.add(lora);
    }
    return LoraAdapters.of(out, dropout);
  }
}
