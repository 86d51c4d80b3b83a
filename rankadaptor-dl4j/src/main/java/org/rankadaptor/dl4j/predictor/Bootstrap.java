package org.rankadaptor.dl4j.predictor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.rankadaptor.Seeds;

/**
 * Bootstrap samples for the ensemble: each example is repeated a Poisson(1) number of times (the
 * "online bootstrap", equal in the limit to drawing n of n with replacement), so that the ensemble's
 * spread reflects how much the data pins the prediction down, not only how the networks started.
 */
final class Bootstrap {
  private static final double EXP_MINUS_ONE = Math.exp(-1);

  private Bootstrap() {}

  /** A sample's inputs and targets. */
  record Sample(float[][] x, float[] y) {}

  /** A Poisson(1) draw (Knuth's method: few iterations at this mean). */
  static int poisson(SplittableRandom random) {
    int k = 0;
    double p = random.nextDouble();
    while (p > EXP_MINUS_ONE) {
      k++;
      p *= random.nextDouble();
    }
    return k;
  }

  /** A sample drawn from one stream: for a fixed data set, such as one source task. */
  static Sample resample(float[][] x, float[] y, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int[] counts = new int[y.length];
    for (int n = 0; n < y.length; n++) {
      counts[n] = poisson(random);
    }
    return expand(x, y, counts);
  }

  /**
   * A sample in which each example's count depends only on the seed and the example itself (its
   * input and raw score), so that a network keeps its sample when examples are added or the replay
   * drops old ones.
   */
  static Sample resampleByContent(float[][] x, float[] y, List<TrainingState.Example> examples, long seed) {
    int[] counts = new int[y.length];
    for (int n = 0; n < y.length; n++) {
      TrainingState.Example e = examples.get(n);
      long content = 31L * Arrays.hashCode(e.x()) + Double.hashCode(e.y());
      counts[n] = poisson(new SplittableRandom(Seeds.mix(seed, content)));
    }
    return expand(x, y, counts);
  }

  /** The examples repeated by their counts; all of them once when every count is 0. */
  private static Sample expand(float[][] x, float[] y, int[] counts) {
    List<float[]> xs = new ArrayList<>();
    List<Float> ys = new ArrayList<>();
    for (int n = 0; n < y.length; n++) {
      for (int k = 0; k < counts[n]; k++) {
        xs.add(x[n]);
        ys.add(y[n]);
      }
    }
    if (xs.isEmpty()) {
      return new Sample(x, y);
    }
    float[] out = new float[ys.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ys.get(i);
    }
    return new Sample(xs.toArray(float[][]::new), out);
  }
}
