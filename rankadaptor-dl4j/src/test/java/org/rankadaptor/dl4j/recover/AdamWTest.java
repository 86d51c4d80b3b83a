package org.rankadaptor.dl4j.recover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;

class AdamWTest {

  static {
    Nd4jRuntime.ensureInitialized();
  }

  @Test
  void firstStepMatchesTheHandComputedUpdate() {
    // p = (1, -2), g = (0.5, -0.1), lr 0.1, decay 0.01. Decay: p * (1 - 0.001) = (0.999, -1.998).
    // m = 0.1 g and v = 0.001 g^2, so after bias correction m^ = g and v^ = g^2, and the update is
    // lr * g / (|g| + eps) = lr * sign(g) up to eps: p = (0.899, -1.898).
    INDArray p = Nd4j.create(new double[] {1.0, -2.0}, new long[] {2}, DataType.DOUBLE);
    INDArray g = Nd4j.create(new double[] {0.5, -0.1}, new long[] {2}, DataType.DOUBLE);
    AdamW adamW = new AdamW(List.of(p), 0.9, 0.999, 1e-8, 0.01);
    adamW.step(List.of(g), 0.1);
    assertThat(p.getDouble(0)).isCloseTo(0.999 - 0.1 * 0.5 / (0.5 + 1e-8), within(1e-12));
    assertThat(p.getDouble(1)).isCloseTo(-1.998 + 0.1 * 0.1 / (0.1 + 1e-8), within(1e-12));
    assertThat(p.getDouble(0)).isCloseTo(0.899, within(1e-7));
    assertThat(g.getDouble(0)).as("gradient untouched").isEqualTo(0.5);
    assertThat(adamW.steps()).isEqualTo(1);
  }

  @Test
  void threeStepsFollowTheScalarRecurrenceElementByElement() {
    double[] start = {0.3, -1.2, 2.5, 0.0, -0.7, 1.1};
    double[][] grads = {
      {0.2, -0.4, 1.5, 0.0, 0.01, -3.0},
      {-0.1, -0.3, 1.0, 0.2, 0.02, -2.0},
      {0.05, 0.6, -0.5, 0.1, -0.03, 4.0}
    };
    double[] rates = {1e-2, 5e-3, 2e-3};
    double b1 = 0.8;
    double b2 = 0.95;
    double eps = 1e-6;
    double wd = 0.1;
    INDArray p = Nd4j.create(start, new long[] {2, 3}, DataType.DOUBLE);
    AdamW adamW = new AdamW(List.of(p), b1, b2, eps, wd);
    double[] ref = start.clone();
    double[] m = new double[6];
    double[] v = new double[6];
    for (int t = 1; t <= 3; t++) {
      double[] g = grads[t - 1];
      double lr = rates[t - 1];
      adamW.step(List.of(Nd4j.create(g, new long[] {2, 3}, DataType.DOUBLE)), lr);
      for (int i = 0; i < 6; i++) {
        ref[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        double mHat = m[i] / (1 - Math.pow(b1, t));
        double vHat = v[i] / (1 - Math.pow(b2, t));
        ref[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
      }
    }
    double[] got = p.reshape(6).toDoubleVector();
    for (int i = 0; i < 6; i++) {
      assertThat(got[i]).as("element %d", i).isCloseTo(ref[i], within(1e-12));
    }
  }

  @Test
  void rejectsAGradientOfAnotherShape() {
    INDArray p = Nd4j.zeros(DataType.FLOAT, 2, 3);
    AdamW adamW = new AdamW(List.of(p), 0.0);
    assertThatThrownBy(() -> adamW.step(List.of(Nd4j.zeros(DataType.FLOAT, 3, 2)), 0.1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[3, 2]");
  }

  @Test
  void scheduleWarmsUpThenDecaysToZero() {
    LearningRateSchedule linear = new LearningRateSchedule(1.0, 4, 12, LearningRateSchedule.Decay.LINEAR);
    assertThat(linear.rate(0)).isEqualTo(0.25);
    assertThat(linear.rate(3)).isEqualTo(1.0);
    assertThat(linear.rate(4)).isEqualTo(1.0);
    assertThat(linear.rate(8)).isEqualTo(0.5);
    assertThat(linear.rate(11)).isEqualTo(0.125);
    LearningRateSchedule cosine = new LearningRateSchedule(2.0, 0, 10, LearningRateSchedule.Decay.COSINE);
    assertThat(cosine.rate(0)).isEqualTo(2.0);
    assertThat(cosine.rate(5)).isCloseTo(1.0, within(1e-12));
    assertThat(cosine.rate(10)).isCloseTo(0.0, within(1e-12));
    assertThatThrownBy(() -> new LearningRateSchedule(0, 1, 1, LearningRateSchedule.Decay.LINEAR))
        .hasMessageContaining("peak");
  }
}
