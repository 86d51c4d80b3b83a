package org.rankadaptor.dl4j.predictor;

import java.util.Arrays;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;

/**
 * The network's input for a configuration: the log2 rank of each searched layer, standardised with the
 * mean and spread over that layer's candidates. Fixed by the space, so the encoding never shifts under
 * a model as it learns.
 */
final class InputEncoding {
  private final RankSpace space;
  private final float[] mean; // (searched layer)
  private final float[] inverseStd; // (searched layer)

  InputEncoding(RankSpace space) {
    this.space = space;
    int[] searched = space.searchedLayers();
    this.mean = new float[searched.length];
    this.inverseStd = new float[searched.length];
    for (int i = 0; i < searched.length; i++) {
      double[] logRanks = space.candidates(searched[i]).stream().mapToDouble(r -> logRank(r)).toArray();
      double m = Arrays.stream(logRanks).average().orElseThrow();
      double variance = Arrays.stream(logRanks).map(r -> (r - m) * (r - m)).average().orElseThrow();
      mean[i] = (float) m;
      inverseStd[i] = (float) (1.0 / Math.sqrt(Math.max(variance, 1e-12)));
    }
  }

  /** The configuration's normalised input, a new array. */
  float[] encode(RankConfig config) {
    float[] x = new float[mean.length];
    encodeInto(config, x, 0);
    return x;
  }

  /** Writes the configuration's normalised input to {@code x[offset .. offset + width())}. */
  void encodeInto(RankConfig config, float[] x, int offset) {
    space.encodeInto(config, x, offset);
    for (int i = 0; i < mean.length; i++) {
      x[offset + i] = (logRank(x[offset + i]) - mean[i]) * inverseStd[i];
    }
  }

  /** Ranks act multiplicatively (2 to 4 is as large a step as 6 to 12); rank 0 counts as 1. */
  private static float logRank(double rank) {
    return (float) (Math.log(Math.max(rank, 1.0)) / Math.log(2));
  }
}
