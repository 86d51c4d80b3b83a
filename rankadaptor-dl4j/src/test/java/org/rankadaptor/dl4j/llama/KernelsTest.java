package org.rankadaptor.dl4j.llama;

import org.rankadaptor.dl4j.testing.FiniteDifferences;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The float32 paths of the Java loops (their own exponential, on-heap tiles) against the float64 paths,
 * which {@link OpsGradientTest} checks against finite differences.
 */
class KernelsTest {

  private final SplittableRandom random = new SplittableRandom(20261201L);

  @Test
  void float32ExponentialIsAccurateOverItsRange() {
    int n = 20_001;
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = -87f + 100f * i / (n - 1); // e^-87 .. e^13
    }
    float[] expected = new float[n];
    for (int i = 0; i < n; i++) {
      expected[i] = x[i];
    }
    Kernels.expInPlace(x, new float[n], n, 0f);
    double worst = 0;
    for (int i = 0; i < n; i++) {
      double exact = Math.exp(expected[i]);
      worst = Math.max(worst, Math.abs(x[i] - exact) / exact);
    }
    assertTrue(worst < 3e-7, "largest relative error " + worst);
  }

  @Test
  void float32ExponentialSaturatesInsteadOfOverflowing() {
    float[] x = {-1000f, 1000f, Float.NEGATIVE_INFINITY};
    Kernels.expInPlace(x, new float[3], 3, 0f);
    assertEquals((float) Math.exp(-87.3365f), x[0], 1e-5 * x[0]);
    assertEquals((float) Math.exp(88), x[1], 1e-5 * x[1]);
    assertEquals(x[0], x[2]);
  }

  @Test
  void crossEntropyInFloat32AgreesWithFloat64() {
    int rows = 5, vocab = 5000; // more than one tile per row
    INDArray logits = FiniteDifferences.random(random, rows, vocab).muli(8);
    int[] targets = {17, -1, 4999, 0, 2500};
    logits.putScalar(3, 0, 100.0); // row 3's target is its argmax
    double[] weights = {0.25, 0, 0.25, 0.25, 0.25};
    INDArray grad64 = logits.dup();
    Ops.RowScores s64 = Ops.crossEntropy(grad64, targets, weights);
    INDArray grad32 = logits.castTo(DataType.FLOAT);
    Ops.RowScores s32 = Ops.crossEntropy(grad32, targets, weights);
    assertArrayEquals(s64.targetLogProb(), s32.targetLogProb(), 1e-5);
    assertArrayEquals(s64.greedy(), s32.greedy());
    assertArrayEquals(new boolean[] {false, false, false, true, false}, s32.greedy());
    assertEquals(0.0, grad64.castTo(DataType.FLOAT).sub(grad32).amaxNumber().doubleValue(), 1e-7);
    // Without weights the logits are only read.
    INDArray untouched = logits.castTo(DataType.FLOAT);
    INDArray copy = untouched.dup();
    Ops.RowScores scoresOnly = Ops.crossEntropy(untouched, targets, null);
    assertEquals(copy, untouched);
    assertArrayEquals(s64.targetLogProb(), scoresOnly.targetLogProb(), 1e-5);
  }

  @Test
  void crossEntropyOnARowViewReadsOnlyThoseRows() {
    INDArray logits = FiniteDifferences.random(random, 6, 40);
    INDArray rows = logits.get(
        org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 5), org.nd4j.linalg.indexing.NDArrayIndex.all());
    double[] fromView = Ops.crossEntropy(rows, new int[] {1, 2, 3}, null).targetLogProb();
    double[] fromCopy = Ops.crossEntropy(rows.dup(), new int[] {1, 2, 3}, null).targetLogProb();
    assertArrayEquals(fromCopy, fromView, 0.0);
  }

  @Test
  void attentionInFloat32AgreesWithFloat64() {
    int batch = 2, t = 70, heads = 4, kvHeads = 2, headDim = 8; // rows long enough to span tiles
    Ops.AttentionShape g = new Ops.AttentionShape(batch, t, t, heads, kvHeads, headDim);
    INDArray q = FiniteDifferences.random(random, batch * t, heads * headDim).muli(3);
    INDArray k = FiniteDifferences.random(random, batch * t, kvHeads * headDim).muli(3);
    INDArray v = FiniteDifferences.random(random, batch * t, kvHeads * headDim);
    INDArray r = FiniteDifferences.random(random, batch * t, heads * headDim);
    int[] lengths = {70, 41};
    Ops.AttentionOut f64 = Ops.attention(q, k, v, lengths, 0, g);
    Ops.AttentionGrads g64 = Ops.attentionBackward(r, f64, g);
    Ops.AttentionOut f32 = Ops.attention(f32(q), f32(k), f32(v), lengths, 0, g);
    Ops.AttentionGrads g32 = Ops.attentionBackward(f32(r), f32, g);
    assertClose(f64.context(), f32.context(), 1e-5);
    assertClose(f64.probs(), f32.probs(), 1e-6);
    assertClose(g64.dq(), g32.dq(), 1e-5);
    assertClose(g64.dk(), g32.dk(), 1e-5);
    assertClose(g64.dv(), g32.dv(), 1e-5);
    // Query 10 of sequence 1 (kv head 0, first query head of its group) reads keys 0..10 only.
    INDArray row = f32.probs().get(
        org.nd4j.linalg.indexing.NDArrayIndex.point(2), org.nd4j.linalg.indexing.NDArrayIndex.point(10),
        org.nd4j.linalg.indexing.NDArrayIndex.all());
    assertEquals(1.0, row.sumNumber().doubleValue(), 1e-6);
    assertEquals(0.0, row.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(11, 70)).amaxNumber().doubleValue());
  }

  @Test
  void swigluAndRopeInFloat32AgreeWithFloat64() {
    INDArray gate = FiniteDifferences.random(random, 9, 300).muli(12);
    INDArray up = FiniteDifferences.random(random, 9, 300);
    Ops.SwigluOut s64 = Ops.swiglu(gate, up);
    Ops.SwigluOut s32 = Ops.swiglu(f32(gate), f32(up));
    assertClose(s64.sigmoid(), s32.sigmoid(), 1e-6);
    assertClose(s64.a(), s32.a(), 1e-5);
    INDArray da = FiniteDifferences.random(random, 9, 300);
    Ops.SwigluGrads d64 = Ops.swigluBackward(da, gate, up, s64.sigmoid());
    Ops.SwigluGrads d32 = Ops.swigluBackward(f32(da), f32(gate), f32(up), s32.sigmoid());
    assertClose(d64.dGate(), d32.dGate(), 1e-5);
    assertClose(d64.dUp(), d32.dUp(), 1e-5);

    int batch = 2, t = 3, heads = 2, headDim = 4;
    INDArray cos = FiniteDifferences.random(random, 8, headDim / 2);
    INDArray sin = FiniteDifferences.random(random, 8, headDim / 2);
    INDArray x = FiniteDifferences.random(random, batch * t, heads * headDim);
    INDArray y64 = Ops.rope(x, batch, t, heads, headDim, 5, cos, sin);
    assertClose(y64, Ops.rope(f32(x), batch, t, heads, headDim, 5, f32(cos), f32(sin)), 1e-6);
    // Pair (0, 1) of head 1 in the last row: rotated by position 5 + 2.
    double c = cos.getDouble(7, 0), s = sin.getDouble(7, 0);
    double even = x.getDouble(5, 4), odd = x.getDouble(5, 5);
    assertEquals(even * c - odd * s, y64.getDouble(5, 4), 1e-12);
    assertEquals(even * s + odd * c, y64.getDouble(5, 5), 1e-12);
  }

  @Test
  void rmsNormInFloat32AgreesWithFloat64() {
    INDArray x = FiniteDifferences.random(random, 7, 33).muli(4);
    INDArray w = FiniteDifferences.random(random, 33);
    INDArray dy = FiniteDifferences.random(random, 7, 33);
    Ops.NormOut n64 = Ops.rmsNorm(x, w, 1e-5);
    Ops.NormOut n32 = Ops.rmsNorm(f32(x), f32(w), 1e-5);
    assertClose(n64.y(), n32.y(), 1e-5);
    assertClose(n64.invRms(), n32.invRms(), 1e-6);
    assertClose(
        Ops.rmsNormBackward(dy, x, w, n64.invRms(), null),
        Ops.rmsNormBackward(f32(dy), f32(x), f32(w), n32.invRms(), null),
        1e-5);
  }

  private static INDArray f32(INDArray a) {
    return a.castTo(DataType.FLOAT);
  }

  private static void assertClose(INDArray expected, INDArray actual, double tolerance) {
    assertArrayEquals(expected.shape(), actual.shape());
    double worst = expected.castTo(DataType.DOUBLE).sub(actual.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    assertTrue(worst <= tolerance, "largest difference " + worst);
  }

  @Test
  void refusesStridedArrays() {
    INDArray transposed = Nd4j.create(DataType.FLOAT, 4, 6).transpose();
    assertThrows(IllegalStateException.class, () -> Kernels.values(transposed));
  }
}
