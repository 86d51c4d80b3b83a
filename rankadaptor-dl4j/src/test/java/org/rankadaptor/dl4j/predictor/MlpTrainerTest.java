package org.rankadaptor.dl4j.predictor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class MlpTrainerTest {
  private static final int[] PAPER = {26, 32, 32, 32, 1};

  private static float[][] inputs(int rows, int width, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[][] x = new float[rows][width];
    for (float[] row : x) {
      for (int i = 0; i < width; i++) {
        row[i] = (float) (random.nextGaussian());
      }
    }
    return x;
  }

  private static float[] targets(int rows, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] y = new float[rows];
    for (int n = 0; n < rows; n++) {
      y[n] = (float) random.nextGaussian();
    }
    return y;
  }

  /** DL4J's own training step on rows from..from+count-1 of the data. */
  private static void dl4jStep(MultiLayerNetwork net, float[][] x, float[] y, int from, int count) {
    int width = x[0].length;
    float[] features = new float[count * width];
    float[] labels = new float[count];
    for (int r = 0; r < count; r++) {
      System.arraycopy(x[from + r], 0, features, r * width, width);
      labels[r] = y[from + r];
    }
    net.fit(Nd4j.create(features, new long[] {count, width}, DataType.FLOAT),
        Nd4j.create(labels, new long[] {count, 1}, DataType.FLOAT));
  }

  private static int[] identity(int n) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    return order;
  }

  @Test
  void stepsEqualDl4jFitStepsIncludingAdamStateWithin1e5() {
    for (double l2 : new double[] {0.03, 0}) {
      Member dl4j = Member.create(PAPER, 1e-3, l2, 11);
      Member ours = dl4j.copy();
      float[][] x = inputs(96, 26, 1);
      float[] y = targets(96, 2);
      MlpTrainer trainer = ours.trainer();
      int[] order = identity(96);
      for (int step = 0; step < 3; step++) {
        dl4jStep(dl4j.network(), x, y, 32 * step, 32);
        trainer.step(x, y, order, 32 * step, 32);
        float[] expected = dl4j.parameters();
        float[] actual = trainer.params;
        for (int k = 0; k < expected.length; k++) {
          assertThat(actual[k]).as("l2 %s, step %s, parameter %s", l2, step, k).isCloseTo(expected[k], within(1e-5f));
        }
      }
      // The moments and iteration count read back from DL4J's updater are the trainer's.
      MlpTrainer fromDl4j = dl4j.trainer();
      assertThat(fromDl4j.iteration).isEqualTo(3).isEqualTo(trainer.iteration);
      for (int k = 0; k < trainer.m.length; k++) {
        assertThat(trainer.m[k]).as("first moment %s", k).isCloseTo(fromDl4j.m[k], within(1e-6f));
        assertThat(trainer.v[k]).as("second moment %s", k).isCloseTo(fromDl4j.v[k], within(1e-7f));
      }
      // And written back, DL4J continues from them exactly as from its own state.
      ours.store(trainer);
      dl4jStep(dl4j.network(), x, y, 0, 32);
      dl4jStep(ours.network(), x, y, 0, 32);
      float[] a = dl4j.parameters();
      float[] b = ours.parameters();
      for (int k = 0; k < a.length; k++) {
        assertThat(b[k]).as("l2 %s, parameter %s after a DL4J step from the stored state", l2, k)
            .isCloseTo(a[k], within(1e-5f));
      }
    }
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    int[] widths = {5, 7, 6, 1};
    Member member = Member.create(widths, 1e-3, 0.03, 3);
    float[][] x = inputs(9, 5, 4);
    float[] y = targets(9, 5);
    int[] order = identity(9);
    MlpTrainer probe = member.trainer();
    float[] base = probe.params.clone();
    float h = 1e-2f;
    double[] numeric = new double[base.length];
    for (int k = 0; k < base.length; k++) {
      probe.params[k] = base[k] + h;
      double up = probe.loss(x, y, order, 0, 9);
      probe.params[k] = base[k] - h;
      double down = probe.loss(x, y, order, 0, 9);
      probe.params[k] = base[k];
      numeric[k] = (up - down) / (2 * h);
    }
    MlpTrainer trainer = member.trainer();
    trainer.step(x, y, order, 0, 9);
    float[] analytic = trainer.lastGradient();
    int nonZero = 0;
    for (int k = 0; k < base.length; k++) {
      assertThat((double) analytic[k]).as("parameter %s", k)
          .isCloseTo(numeric[k], within(2e-3 + 1e-2 * Math.abs(numeric[k])));
      nonZero += Math.abs(analytic[k]) > 1e-3 ? 1 : 0;
    }
    assertThat(nonZero).as("parameters with a clear gradient").isGreaterThan(base.length / 2);
  }

  @Test
  void trainingFollowsTheSeededBatchOrderAndLowersTheLoss() {
    Member member = Member.create(PAPER, 1e-3, 0.03, 5);
    float[][] x = inputs(200, 26, 6);
    float[] y = new float[200];
    for (int n = 0; n < 200; n++) {
      y[n] = (float) Math.tanh(x[n][0] - 0.5 * x[n][3]);
    }
    int[] all = identity(200);
    double before = member.trainer().loss(x, y, all, 0, 200);
    MlpTrainer a = member.trainer();
    a.train(x, y, 300, 32, new SplittableRandom(7));
    MlpTrainer b = member.trainer();
    b.train(x, y, 300, 32, new SplittableRandom(7));
    MlpTrainer c = member.trainer();
    c.train(x, y, 300, 32, new SplittableRandom(8));
    assertThat(b.params).containsExactly(a.params);
    assertThat(c.params).isNotEqualTo(a.params);
    assertThat(a.iteration).isEqualTo(300);
    assertThat(a.loss(x, y, all, 0, 200)).as("loss before %s", before).isLessThan(0.5 * before);
  }
}
