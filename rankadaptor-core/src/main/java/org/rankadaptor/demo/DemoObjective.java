package org.rankadaptor.demo;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.List;
import java.util.SplittableRandom;
import org.rankadaptor.Evaluation;
import org.rankadaptor.Evaluator;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.RecoveryRunner;

/**
 * A cheap, seeded stand-in for "recover the pruned model with these ranks and measure it", so that the
 * search can run and be tested without any tensor library. It has the structure that makes the real
 * problem interesting: every layer prefers its own rank (as layers damaged differently by pruning do),
 * adjacent layers interact, and each measurement carries noise that depends on the recovery seed.
 *
 * <p>With {@code z = log2(rank)}, the noise-free score is
 * {@code 1 + (1/L) * sum_i [ -d_i (z_i - p_i)^2 - c_i (z_i - z_{i+1})^2 ]}: {@code d_i} is layer i's
 * sensitivity, {@code p_i} its preferred log-rank and {@code c_i} its coupling to the next layer. Tasks
 * of one family ({@link #task}) share most of these parameters, as related datasets share what a pruned
 * model needs, which is what meta-learning exploits.
 *
 * <p>The same object is the {@link RecoveryRunner} and the {@link Evaluator}.
 *
 * @since 0.1.0
 */
public final class DemoObjective implements RecoveryRunner<DemoObjective.Recovered>, Evaluator<DemoObjective.Recovered> {

  /** What the demo's "recovery" produces: the ranks and the recovery seed, which sets the noise. */
  public record Recovered(RankConfig config, long seed) {}

  private final RankSpace space;
  private final String taskId;
  private final long taskSeed;
  private final double noiseStd;
  private final double[] sensitivity; // (layer)
  private final double[] preferred; // (layer) preferred log2 rank
  private final double[] coupling; // (layer) coupling to layer + 1; last entry unused

  private DemoObjective(RankSpace space, String taskId, long familySeed, long taskSeed, double taskShift, double noiseStd) {
    checkArgument(noiseStd >= 0, "noise must be >= 0, got %s", noiseStd);
    checkArgument(taskShift >= 0 && taskShift <= 1, "task shift must be in [0, 1], got %s", taskShift);
    this.space = space;
    this.taskId = taskId;
    this.taskSeed = taskSeed;
    this.noiseStd = noiseStd;
    int layers = space.numLayers();
    SplittableRandom family = new SplittableRandom(familySeed);
    SplittableRandom own = new SplittableRandom(taskSeed);
    sensitivity = new double[layers];
    preferred = new double[layers];
    coupling = new double[layers];
    for (int i = 0; i < layers; i++) {
      sensitivity[i] = blend(0.3 + 1.7 * family.nextDouble(), 0.3 + 1.7 * own.nextDouble(), taskShift);
      preferred[i] = blend(1 + 2.6 * family.nextDouble(), 1 + 2.6 * own.nextDouble(), taskShift);
      coupling[i] = blend(0.6 * family.nextDouble(), 0.6 * own.nextDouble(), taskShift);
    }
  }

  private static double blend(double shared, double own, double shift) {
    return (1 - shift) * shared + shift * own;
  }

  /** A stand-alone objective with measurement noise of standard deviation 0.01. */
  public static DemoObjective create(RankSpace space, long seed) {
    return new DemoObjective(space, "demo", seed, seed, 0, 0.01);
  }

  /**
   * Task {@code index} of a family of related objectives: its parameters are the family's, moved a
   * fraction {@code taskShift} (0 = identical, 1 = unrelated) toward its own.
   */
  public static DemoObjective task(RankSpace space, long familySeed, int index, double taskShift, double noiseStd) {
    long taskSeed = familySeed * 1_000_003L + index + 1;
    return new DemoObjective(space, "demo-" + index, familySeed, taskSeed, taskShift, noiseStd);
  }

  @Override
  public String taskId() {
    return taskId;
  }

  @Override
  public Recovered recover(RankConfig config, long seed) {
    space.validate(config);
    return new Recovered(config, seed);
  }

  @Override
  public Evaluation evaluate(Recovered model) {
    double clean = trueScore(model.config());
    SplittableRandom noise = new SplittableRandom(model.config().hashCode() * 0x9E3779B97F4A7C15L ^ model.seed() ^ taskSeed);
    double u = 1.0 - noise.nextDouble();
    double gaussian = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * noise.nextDouble());
    double measured = clean + noiseStd * gaussian;
    return new Evaluation(measured, java.util.Map.of("clean", clean));
  }

  @Override
  public String fingerprint() {
    return "demo:" + taskSeed + ":" + noiseStd;
  }

  /** The noise-free score of a configuration. */
  public double trueScore(RankConfig config) {
    space.validate(config);
    int layers = config.length();
    double sum = 0;
    for (int i = 0; i < layers; i++) {
      sum += unary(i, log2(config.rank(i)));
      if (i + 1 < layers) {
        sum += pair(i, log2(config.rank(i)), log2(config.rank(i + 1)));
      }
    }
    return 1 + sum / layers;
  }

  /**
   * The configuration with the highest noise-free score, found exactly by dynamic programming along the
   * chain of layers. The space's parameter budget, if any, is ignored.
   */
  public RankConfig optimum() {
    int layers = space.numLayers();
    List<List<Integer>> options = new java.util.ArrayList<>();
    for (int i = 0; i < layers; i++) {
      options.add(space.candidates(i));
    }
    double[][] best = new double[layers][]; // best[i][k]: best sum of layers i.. with layer i at option k
    int[][] next = new int[layers][];
    for (int i = layers - 1; i >= 0; i--) {
      List<Integer> here = options.get(i);
      best[i] = new double[here.size()];
      next[i] = new int[here.size()];
      for (int k = 0; k < here.size(); k++) {
        double z = log2(here.get(k));
        double value = unary(i, z);
        if (i + 1 < layers) {
          double tail = Double.NEGATIVE_INFINITY;
          List<Integer> after = options.get(i + 1);
          for (int j = 0; j < after.size(); j++) {
            double v = pair(i, z, log2(after.get(j))) + best[i + 1][j];
            if (v > tail) {
              tail = v;
              next[i][k] = j;
            }
          }
          value += tail;
        }
        best[i][k] = value;
      }
    }
    int k = 0;
    for (int j = 1; j < best[0].length; j++) {
      if (best[0][j] > best[0][k]) {
        k = j;
      }
    }
    int[] ranks = new int[layers];
    for (int i = 0; i < layers; i++) {
      ranks[i] = options.get(i).get(k);
      k = next[i][k];
    }
    return RankConfig.of(ranks);
  }

  /** The space the objective is defined on. */
  public RankSpace space() {
    return space;
  }

  private double unary(int layer, double z) {
    double d = z - preferred[layer];
    return -sensitivity[layer] * d * d;
  }

  private double pair(int layer, double z, double zNext) {
    double d = z - zNext;
    return -coupling[layer] * d * d;
  }

  private static double log2(int rank) {
    // Rank 0 (no adapter) is treated like rank 1: the objective only needs to be finite there.
    return Math.log(Math.max(rank, 1)) / Math.log(2);
  }
}
