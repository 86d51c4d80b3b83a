package org.rankadaptor;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import com.google.common.primitives.Ints;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

// One concept, one file, though longer than most: membership, the predictors' encoding, sampling,
// enumeration and mutation all read the same per-layer candidate lists and budget, and the builder
// beside them is what a user writes. Splitting the sampling out would only add a forwarding layer.
/**
 * The set of rank configurations a search may choose from: for every layer a sorted list of candidate
 * ranks. Searched layers have several candidates; pinned layers have exactly one (the paper keeps the
 * unpruned layers at rank 8). An optional {@link ParameterBudget} further restricts the space.
 *
 * <p>Predictors see a configuration through {@link #encode}: the ranks of the searched layers only, in
 * layer order, so the encoding has {@link #searchedLayerCount()} entries.
 *
 * <pre>{@code
 * RankSpace paper = RankSpace.paperSetting();               // 32 layers, 4..29 searched, others at 8
 * RankSpace small = RankSpace.builder(5).searchLayers(1, 3).build();
 * }</pre>
 *
 * @since 0.1.0
 */
public final class RankSpace {

  /** The paper's candidate ranks. */
  public static final List<Integer> DEFAULT_CANDIDATES = List.of(2, 4, 6, 8, 10, 12);

  /** The rank the paper gives to layers that were not pruned. */
  public static final int DEFAULT_PINNED_RANK = 8;

  /** Rejection-sampling attempts before a budget-violating sample is repaired instead. */
  private static final int BUDGET_REJECTION_TRIES = 64;

  private final int[][] candidates; // (layer, candidates of the layer), ascending
  private final int[] searchedLayers; // layers with more than one candidate, ascending
  private final ParameterBudget budget; // nullable

  private RankSpace(int[][] candidates, ParameterBudget budget) {
    this.candidates = candidates;
    this.budget = budget;
    List<Integer> searched = new ArrayList<>();
    for (int layer = 0; layer < candidates.length; layer++) {
      if (candidates[layer].length > 1) {
        searched.add(layer);
      }
    }
    this.searchedLayers = Ints.toArray(searched);
    if (budget != null) {
      checkArgument(
          budget.parametersPerRank().length == candidates.length,
          "budget has %s layer costs but the space has %s layers",
          budget.parametersPerRank().length,
          candidates.length);
      RankConfig cheapest = cheapest();
      if (!budget.allows(cheapest)) {
        throw new IllegalArgumentException(
            "the budget of "
                + budget.maxTrainableParameters()
                + " trainable parameters is below the cheapest configuration "
                + cheapest
                + " ("
                + budget.trainableParameters(cheapest)
                + ")");
      }
    }
  }

  /**
   * The paper's setting for LLaMA-7B: 32 layers, 0-based layers 4..29 searched over {2,4,6,8,10,12},
   * the others pinned at 8.
   */
  public static RankSpace paperSetting() {
    return builder(32).searchLayers(4, 29).build();
  }

  /** A builder for a space over {@code numLayers} layers; by default every layer is searched. */
  public static Builder builder(int numLayers) {
    return new Builder(numLayers);
  }

  /** Number of layers of every configuration in the space. */
  public int numLayers() {
    return candidates.length;
  }

  /** The candidate ranks of a layer, ascending (one entry for a pinned layer). */
  public List<Integer> candidates(int layer) {
    return Ints.asList(candidates[layer].clone());
  }

  /** Whether the layer has a single allowed rank. */
  public boolean isPinned(int layer) {
    return candidates[layer].length == 1;
  }

  /** The searched layers, ascending. */
  public int[] searchedLayers() {
    return searchedLayers.clone();
  }

  /** Number of searched layers: the length of {@link #encode}'s result. */
  public int searchedLayerCount() {
    return searchedLayers.length;
  }

  /** The parameter budget, if any. */
  public Optional<ParameterBudget> budget() {
    return Optional.ofNullable(budget);
  }

  /** The same space with a parameter budget. */
  public RankSpace withBudget(ParameterBudget newBudget) {
    return new RankSpace(candidates, newBudget);
  }

  /**
   * The number of configurations, ignoring the budget: the product of the candidate counts (6^26 for
   * the paper's setting, beyond {@code long}).
   */
  public BigInteger size() {
    BigInteger size = BigInteger.ONE;
    for (int[] layer : candidates) {
      size = size.multiply(BigInteger.valueOf(layer.length));
    }
    return size;
  }

  /** Whether the configuration belongs to the space (length, candidates, pins and budget). */
  public boolean contains(RankConfig config) {
    return violation(config) == null;
  }

  /**
   * Checks that the configuration belongs to the space.
   *
   * @throws InvalidRankConfigException naming the layer and value (or the budget) that does not fit
   */
  public RankConfig validate(RankConfig config) {
    String problem = violation(config);
    if (problem != null) {
      throw new InvalidRankConfigException(problem);
    }
    return config;
  }

  private String violation(RankConfig config) {
    if (config.length() != candidates.length) {
      return "configuration " + config + " has " + config.length() + " layers; the space has " + candidates.length;
    }
    for (int layer = 0; layer < candidates.length; layer++) {
      int rank = config.rank(layer);
      if (Arrays.binarySearch(candidates[layer], rank) < 0) {
        return isPinned(layer)
            ? "layer " + layer + " is pinned at rank " + candidates[layer][0] + " but has rank " + rank
            : "layer " + layer + " has rank " + rank + ", not one of its candidates " + Arrays.toString(candidates[layer]);
      }
    }
    if (budget != null && !budget.allows(config)) {
      return "configuration " + config + " needs " + budget.trainableParameters(config)
          + " trainable parameters, over the budget of " + budget.maxTrainableParameters();
    }
    return null;
  }

  /** Trainable parameters of a configuration under the budget's costs; empty without a budget. */
  public Optional<Long> trainableParameters(RankConfig config) {
    return budget == null ? Optional.empty() : Optional.of(budget.trainableParameters(config));
  }

  /**
   * The predictor encoding: the ranks of the searched layers, in layer order.
   *
   * @throws InvalidRankConfigException if the configuration has the wrong length
   */
  public double[] encode(RankConfig config) {
    checkLength(config);
    double[] x = new double[searchedLayers.length];
    for (int i = 0; i < searchedLayers.length; i++) {
      x[i] = config.rank(searchedLayers[i]);
    }
    return x;
  }

  /** Writes the encoding into {@code out[offset .. offset + searchedLayerCount())}, for batches. */
  public void encodeInto(RankConfig config, float[] out, int offset) {
    checkLength(config);
    for (int i = 0; i < searchedLayers.length; i++) {
      out[offset + i] = config.rank(searchedLayers[i]);
    }
  }

  private void checkLength(RankConfig config) {
    if (config.length() != candidates.length) {
      throw new InvalidRankConfigException(
          "configuration " + config + " has " + config.length() + " layers; the space has " + candidates.length);
    }
  }

  /** The configuration with every layer at its smallest candidate. */
  public RankConfig cheapest() {
    int[] ranks = new int[candidates.length];
    for (int layer = 0; layer < ranks.length; layer++) {
      ranks[layer] = candidates[layer][0];
    }
    return RankConfig.of(ranks);
  }

  /**
   * The configuration with every searched layer at {@code rank} and pinned layers at their pin.
   *
   * @throws InvalidRankConfigException if {@code rank} is not a candidate of every searched layer or
   *     the result is over budget
   */
  public RankConfig uniform(int rank) {
    int[] ranks = new int[candidates.length];
    for (int layer = 0; layer < ranks.length; layer++) {
      ranks[layer] = isPinned(layer) ? candidates[layer][0] : rank;
    }
    return validate(RankConfig.of(ranks));
  }

  /** The most configurations {@link #enumerate()} lists. */
  public static final int ENUMERATION_LIMIT = 1 << 20;

  /**
   * Every configuration of the space (within the budget, if any), in lexicographic order.
   *
   * @throws IllegalStateException if {@link #size()} exceeds {@value #ENUMERATION_LIMIT}: such a space
   *     must be sampled
   */
  public List<RankConfig> enumerate() {
    checkState(size().compareTo(BigInteger.valueOf(ENUMERATION_LIMIT)) <= 0,
        "the space has %s configurations, more than the %s that can be enumerated", size(), ENUMERATION_LIMIT);
    List<RankConfig> out = new ArrayList<>();
    enumerate(0, cheapest().toArray(), out);
    return out;
  }

  private void enumerate(int layer, int[] ranks, List<RankConfig> out) {
    if (layer == ranks.length) {
      RankConfig config = RankConfig.of(ranks);
      if (budget == null || budget.allows(config)) {
        out.add(config);
      }
      return;
    }
    for (int rank : candidates[layer]) {
      ranks[layer] = rank;
      enumerate(layer + 1, ranks, out);
    }
  }

  /**
   * One configuration drawn uniformly from the space; with a budget, drawn uniformly among those within
   * it by rejection, and after {@value #BUDGET_REJECTION_TRIES} rejections repaired by lowering random
   * layers (no longer exactly uniform, always within budget).
   */
  public RankConfig sample(SplittableRandom random) {
    RankConfig config = drawUnconstrained(random);
    for (int attempt = 1; budget != null && !budget.allows(config); attempt++) {
      config = attempt < BUDGET_REJECTION_TRIES ? drawUnconstrained(random) : repair(config.toArray(), random);
    }
    return config;
  }

  /**
   * {@code count} configurations from a seeded stream.
   *
   * @param distinct whether the configurations must all differ; then {@code count} may not exceed
   *     {@link #size()}
   */
  public List<RankConfig> sample(int count, long seed, boolean distinct) {
    checkArgument(count >= 0, "count must be >= 0, got %s", count);
    SplittableRandom random = new SplittableRandom(seed);
    if (!distinct) {
      List<RankConfig> out = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        out.add(sample(random));
      }
      return out;
    }
    checkArgument(
        size().compareTo(BigInteger.valueOf(count)) >= 0,
        "cannot draw %s distinct configurations from a space of %s",
        count,
        size());
    Set<RankConfig> out = new LinkedHashSet<>();
    long draws = 0;
    long maxDraws = 1000L * count + 10_000;
    while (out.size() < count) {
      if (++draws > maxDraws) {
        throw new IllegalArgumentException(
            "found only " + out.size() + " distinct configurations within budget after " + maxDraws + " draws");
      }
      out.add(sample(random));
    }
    return new ArrayList<>(out);
  }

  /**
   * The configurations one step away: one searched layer moved to the next lower or next higher
   * candidate, within the budget.
   */
  public List<RankConfig> neighbours(RankConfig config) {
    validate(config);
    List<RankConfig> out = new ArrayList<>();
    for (int layer : searchedLayers) {
      int index = Arrays.binarySearch(candidates[layer], config.rank(layer));
      for (int step : new int[] {-1, 1}) {
        int next = index + step;
        if (next >= 0 && next < candidates[layer].length) {
          RankConfig neighbour = config.with(layer, candidates[layer][next]);
          if (budget == null || budget.allows(neighbour)) {
            out.add(neighbour);
          }
        }
      }
    }
    return out;
  }

  /**
   * A random mutation: {@code layers} distinct searched layers (at most all of them) each given a
   * different candidate, then repaired to the budget if needed. The result belongs to the space.
   */
  public RankConfig mutate(RankConfig config, SplittableRandom random, int layers) {
    validate(config);
    checkArgument(layers >= 1, "a mutation changes at least one layer, got %s", layers);
    if (searchedLayers.length == 0) {
      return config;
    }
    int[] ranks = config.toArray();
    int[] order = searchedLayers.clone();
    for (int i = 0; i < Math.min(layers, order.length); i++) {
      int j = i + random.nextInt(order.length - i);
      int layer = order[j];
      order[j] = order[i];
      order[i] = layer;
      int[] options = candidates[layer];
      int current = Arrays.binarySearch(options, ranks[layer]);
      int pick = random.nextInt(options.length - 1);
      ranks[layer] = options[pick >= current ? pick + 1 : pick];
    }
    RankConfig mutated = RankConfig.of(ranks);
    return budget == null || budget.allows(mutated) ? mutated : repair(ranks, random);
  }

  private RankConfig drawUnconstrained(SplittableRandom random) {
    int[] ranks = new int[candidates.length];
    for (int layer = 0; layer < ranks.length; layer++) {
      int[] options = candidates[layer];
      ranks[layer] = options.length == 1 ? options[0] : options[random.nextInt(options.length)];
    }
    return RankConfig.of(ranks);
  }

  /** Lowers random costly searched layers one candidate at a time until the budget holds. */
  private RankConfig repair(int[] ranks, SplittableRandom random) {
    RankConfig config = RankConfig.of(ranks);
    while (!budget.allows(config)) {
      List<Integer> lowerable = new ArrayList<>();
      for (int layer : searchedLayers) {
        if (budget.costOf(layer) > 0 && ranks[layer] > candidates[layer][0]) {
          lowerable.add(layer);
        }
      }
      // The constructor checked that the cheapest configuration fits, so some layer can go lower.
      int layer = lowerable.get(random.nextInt(lowerable.size()));
      int index = Arrays.binarySearch(candidates[layer], ranks[layer]);
      ranks[layer] = candidates[layer][index - 1];
      config = RankConfig.of(ranks);
    }
    return config;
  }

  /** A short description for logs and provenance. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    sb.append(candidates.length).append(" layers; searched ").append(Arrays.toString(searchedLayers));
    if (searchedLayers.length > 0) {
      sb.append(" over ").append(Arrays.toString(candidates[searchedLayers[0]]));
    }
    if (budget != null) {
      sb.append("; budget ").append(budget.maxTrainableParameters()).append(" trainable parameters");
    }
    return sb.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RankSpace s && Arrays.deepEquals(candidates, s.candidates) && java.util.Objects.equals(budget, s.budget);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.deepHashCode(candidates) + java.util.Objects.hashCode(budget);
  }

  @Override
  public String toString() {
    return "RankSpace[" + describe() + "]";
  }

  /** Builds a {@link RankSpace}. */
  public static final class Builder {
    private final int numLayers;
    private final int[][] candidates;
    private ParameterBudget budget;

    private Builder(int numLayers) {
      checkArgument(numLayers >= 1, "a rank space needs at least one layer, got %s", numLayers);
      this.numLayers = numLayers;
      this.candidates = new int[numLayers][];
      int[] defaults = Ints.toArray(DEFAULT_CANDIDATES);
      for (int layer = 0; layer < numLayers; layer++) {
        candidates[layer] = defaults;
      }
    }

    /** Sets the candidates of every searched (not pinned) layer. */
    public Builder candidates(int... ranks) {
      int[] sorted = sortedCandidates(ranks);
      for (int layer = 0; layer < numLayers; layer++) {
        if (candidates[layer].length > 1) {
          candidates[layer] = sorted;
        }
      }
      return this;
    }

    /** Sets the candidates of one layer. */
    public Builder layerCandidates(int layer, int... ranks) {
      checkLayer(layer);
      candidates[layer] = sortedCandidates(ranks);
      return this;
    }

    /**
     * Searches only the 0-based layers {@code first..last} (inclusive, with the current candidates)
     * and pins every other layer at {@link #DEFAULT_PINNED_RANK}.
     */
    public Builder searchLayers(int first, int last) {
      return searchLayers(first, last, DEFAULT_PINNED_RANK);
    }

    /** Like {@link #searchLayers(int, int)} with another rank for the pinned layers. */
    public Builder searchLayers(int first, int last, int pinnedRank) {
      checkLayer(first);
      checkLayer(last);
      checkArgument(first <= last, "first searched layer %s is after the last %s", first, last);
      for (int layer = 0; layer < numLayers; layer++) {
        if (layer < first || layer > last) {
          pin(layer, pinnedRank);
        }
      }
      return this;
    }

    /** Pins one layer at a fixed rank. */
    public Builder pin(int layer, int rank) {
      checkLayer(layer);
      checkArgument(rank >= 0, "pinned rank of layer %s must be >= 0, got %s", layer, rank);
      candidates[layer] = new int[] {rank};
      return this;
    }

    /** Restricts the space to configurations within a parameter budget. */
    public Builder budget(ParameterBudget budget) {
      this.budget = budget;
      return this;
    }

    /**
     * The space.
     *
     * @return the space with the layers, candidates and budget given
     */
    public RankSpace build() {
      return new RankSpace(candidates.clone(), budget);
    }

    private void checkLayer(int layer) {
      checkArgument(layer >= 0 && layer < numLayers, "layer %s is outside 0..%s", layer, numLayers - 1);
    }

    private static int[] sortedCandidates(int... ranks) {
      checkArgument(ranks.length >= 1, "a layer needs at least one candidate rank");
      int[] sorted = Arrays.stream(ranks).distinct().sorted().toArray();
      checkArgument(sorted[0] >= 0, "candidate ranks must be >= 0, got %s", Arrays.toString(ranks));
      return sorted;
    }
  }
}
