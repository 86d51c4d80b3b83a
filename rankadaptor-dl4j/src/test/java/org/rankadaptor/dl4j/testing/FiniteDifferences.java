package org.rankadaptor.dl4j.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Central finite differences in float64 against analytic gradients. */
public final class FiniteDifferences {

  private static final double STEP = 1e-5;

  private FiniteDifferences() {}

  /** A float64 array of uniform values in [-1, 1). */
  public static INDArray random(SplittableRandom random, long... shape) {
    INDArray a = Nd4j.create(DataType.DOUBLE, shape);
    for (long i = 0; i < a.length(); i++) {
      a.putScalar(i, 2 * random.nextDouble() - 1);
    }
    return a;
  }

  /**
   * Perturbs {@code samples} random elements of {@code parameter} in place (restoring them) and asserts
   * that the change of {@code loss} matches {@code analytic} at those elements.
   */
  public static void check(
      String name, INDArray parameter, INDArray analytic, DoubleSupplier loss, int samples,
      SplittableRandom random) {
    assertTrue(parameter.dataType() == DataType.DOUBLE, name + " must be float64 for this check");
    INDArray flatParameter = parameter.reshape(parameter.length());
    INDArray flatAnalytic = analytic.reshape(analytic.length());
    double largest = 0;
    for (int s = 0; s < samples; s++) {
      long i = random.nextLong(parameter.length());
      double original = flatParameter.getDouble(i);
      flatParameter.putScalar(i, original + STEP);
      double up = loss.getAsDouble();
      flatParameter.putScalar(i, original - STEP);
      double down = loss.getAsDouble();
      flatParameter.putScalar(i, original);
      double numeric = (up - down) / (2 * STEP);
      double exact = flatAnalytic.getDouble(i);
      largest = Math.max(largest, Math.abs(exact));
      double error = Math.abs(numeric - exact);
      assertTrue(
          error <= 1e-6 + 1e-5 * Math.abs(numeric),
          name + "[" + i + "]: analytic " + exact + " vs finite difference " + numeric);
    }
    assertTrue(largest > 1e-9, name + ": every sampled gradient is zero; the check proves nothing");
  }
}
