package org.rankadaptor;

import com.google.common.base.Splitter;
import com.google.common.primitives.Ints;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable vector of LoRA ranks, one per decoder layer (index 0 is the first layer). Whether the
 * vector belongs to a search space is the {@link RankSpace}'s business; a {@code RankConfig} only
 * requires non-negative ranks (0 means no adapter on that layer).
 *
 * <p>Text form: ranks separated by commas, {@code "8,8,4,12"}; see {@link #parse} and {@link #format}.
 *
 * @since 0.1.0
 * @serial exclude serialised only to ship work between processes of one version (Spark)
 */
public final class RankConfig implements Comparable<RankConfig>, java.io.Serializable {
  private static final long serialVersionUID = 1L;
  private final int[] ranks;
  private final int hash;

  private RankConfig(int[] ranks) {
    for (int layer = 0; layer < ranks.length; layer++) {
      if (ranks[layer] < 0) {
        throw new InvalidRankConfigException(
            "rank of layer " + layer + " is " + ranks[layer] + "; ranks must be >= 0");
      }
    }
    this.ranks = ranks;
    this.hash = Arrays.hashCode(ranks);
  }

  /** A configuration with the given ranks (copied). */
  public static RankConfig of(int... ranks) {
    if (ranks.length == 0) {
      throw new InvalidRankConfigException("a rank configuration needs at least one layer");
    }
    return new RankConfig(ranks.clone());
  }

  /** A configuration of {@code layers} layers that all have rank {@code rank}. */
  public static RankConfig uniform(int layers, int rank) {
    if (layers <= 0) {
      throw new InvalidRankConfigException("a rank configuration needs at least one layer, got " + layers);
    }
    int[] ranks = new int[layers];
    Arrays.fill(ranks, rank);
    return new RankConfig(ranks);
  }

  /**
   * Parses the text form {@code "8,8,4,12"} (spaces around the numbers are allowed).
   *
   * @throws InvalidRankConfigException naming the position and the text when an entry is not a
   *     non-negative integer
   */
  public static RankConfig parse(String text) {
    if (text == null || text.isBlank()) {
      throw new InvalidRankConfigException("empty rank configuration");
    }
    List<String> parts = Splitter.on(',').trimResults().splitToList(text);
    int[] ranks = new int[parts.size()];
    for (int i = 0; i < ranks.length; i++) {
      Integer value = Ints.tryParse(parts.get(i));
      if (value == null) {
        throw new InvalidRankConfigException(
            "layer " + i + " of \"" + text + "\": '" + parts.get(i) + "' is not an integer rank");
      }
      ranks[i] = value;
    }
    return new RankConfig(ranks);
  }

  /** The text form, {@code "8,8,4,12"}; {@code parse(format())} gives an equal configuration. */
  public String format() {
    return Ints.join(",", ranks);
  }

  /** Number of layers. */
  public int length() {
    return ranks.length;
  }

  /** Rank of one layer. */
  public int rank(int layer) {
    return ranks[layer];
  }

  /** A copy of the ranks. */
  public int[] toArray() {
    return ranks.clone();
  }

  /** A copy with one layer's rank replaced. */
  public RankConfig with(int layer, int rank) {
    int[] copy = ranks.clone();
    copy[layer] = rank;
    return new RankConfig(copy);
  }

  /** Sum of the ranks. */
  public int totalRank() {
    int total = 0;
    for (int r : ranks) {
      total += r;
    }
    return total;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RankConfig other && hash == other.hash && Arrays.equals(ranks, other.ranks);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  /** Lexicographic order, shorter first on a common prefix; gives deterministic tie-breaking. */
  @Override
  public int compareTo(RankConfig o) {
    return Arrays.compare(ranks, o.ranks);
  }

  /** Deserialised configurations pass the same checks as constructed ones. */
  private Object readResolve() {
    return new RankConfig(ranks.clone());
  }

  @Override
  public String toString() {
    return "[" + format() + "]";
  }
}
