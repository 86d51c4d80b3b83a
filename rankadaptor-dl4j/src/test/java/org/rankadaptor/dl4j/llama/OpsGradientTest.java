package org.rankadaptor.dl4j.llama;

import org.rankadaptor.dl4j.testing.FiniteDifferences;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Each operation's explicit backward pass against finite differences of {@code sum(out * R)}. */
class OpsGradientTest {

  private final SplittableRandom random = new SplittableRandom(20261130L);

  private static double dot(INDArray a, INDArray b) {
    return a.mul(b).sumNumber().doubleValue();
  }

  @Test
  void rmsNorm() {
    INDArray x = FiniteDifferences.random(random, 5, 8);
    INDArray w = FiniteDifferences.random(random, 8);
    INDArray r = FiniteDifferences.random(random, 5, 8);
    Ops.NormOut f = Ops.rmsNorm(x, w, 1e-5);
    INDArray dw = Nd4j.zeros(DataType.DOUBLE, 8);
    INDArray dx = Ops.rmsNormBackward(r, x, w, f.invRms(), dw);
    FiniteDifferences.check("x", x, dx, () -> dot(Ops.rmsNorm(x, w, 1e-5).y(), r), 20, random);
    FiniteDifferences.check("w", w, dw, () -> dot(Ops.rmsNorm(x, w, 1e-5).y(), r), 8, random);
  }

  @Test
  void ropeWithOffset() {
    int batch = 2, t = 3, heads = 2, headDim = 6, maxLen = 9, offset = 4;
    double[] cos = new double[maxLen * headDim / 2];
    double[] sin = new double[cos.length];
    for (int i = 0; i < cos.length; i++) {
      double angle = 0.3 * i + 0.1;
      cos[i] = Math.cos(angle);
      sin[i] = Math.sin(angle);
    }
    INDArray c = Nd4j.create(cos, new long[] {maxLen, headDim / 2}, DataType.DOUBLE);
    INDArray s = Nd4j.create(sin, new long[] {maxLen, headDim / 2}, DataType.DOUBLE);
    INDArray x = FiniteDifferences.random(random, batch * t, heads * headDim);
    INDArray r = FiniteDifferences.random(random, batch * t, heads * headDim);
    INDArray dx = Ops.rope(r, batch, t, heads, headDim, offset, c, s.neg());
    FiniteDifferences.check(
        "x", x, dx, () -> dot(Ops.rope(x, batch, t, heads, headDim, offset, c, s), r), 20, random);
  }

  @Test
  void groupedQueryAttentionWithPaddingMask() {
    int batch = 2, t = 4, heads = 4, kvHeads = 2, headDim = 3;
    Ops.AttentionShape g = new Ops.AttentionShape(batch, t, t, heads, kvHeads, headDim);
    INDArray q = FiniteDifferences.random(random, batch * t, heads * headDim);
    INDArray k = FiniteDifferences.random(random, batch * t, kvHeads * headDim);
    INDArray v = FiniteDifferences.random(random, batch * t, kvHeads * headDim);
    INDArray r = FiniteDifferences.random(random, batch * t, heads * headDim);
    int[] lengths = {4, 2};
    Ops.AttentionOut f = Ops.attention(q, k, v, lengths, 0, g);
    Ops.AttentionGrads grads = Ops.attentionBackward(r, f, g);
    java.util.function.DoubleSupplier loss =
        () -> dot(Ops.attention(q, k, v, lengths, 0, g).context(), r);
    FiniteDifferences.check("q", q, grads.dq(), loss, 20, random);
    FiniteDifferences.check("k", k, grads.dk(), loss, 20, random);
    FiniteDifferences.check("v", v, grads.dv(), loss, 20, random);
  }

  @Test
  void swiglu() {
    INDArray gate = FiniteDifferences.random(random, 4, 6).muli(3);
    INDArray up = FiniteDifferences.random(random, 4, 6);
    INDArray r = FiniteDifferences.random(random, 4, 6);
    Ops.SwigluOut f = Ops.swiglu(gate, up);
    Ops.SwigluGrads grads = Ops.swigluBackward(r, gate, up, f.sigmoid());
    FiniteDifferences.check("gate", gate, grads.dGate(), () -> dot(Ops.swiglu(gate, up).a(), r), 12, random);
    FiniteDifferences.check("up", up, grads.dUp(), () -> dot(Ops.swiglu(gate, up).a(), r), 12, random);
  }

  @Test
  void loraLinearWithDropout() {
    int rows = 5, in = 7, out = 4, rank = 3;
    INDArray x = FiniteDifferences.random(random, rows, in);
    INDArray w = FiniteDifferences.random(random, out, in);
    LoraAdapter lora =
        new LoraAdapter(
            FiniteDifferences.random(random, rank, in), FiniteDifferences.random(random, out, rank), 2.5);
    INDArray keep = Nd4j.create(DataType.DOUBLE, rows, in);
    for (long i = 0; i < keep.length(); i++) {
      keep.putScalar(i, random.nextDouble() < 0.3 ? 0.0 : 1.0 / 0.7);
    }
    INDArray r = FiniteDifferences.random(random, rows, out);
    Ops.LinearOut f = Ops.linear(x, w, lora, keep);
    LoraAdapter grads =
        new LoraAdapter(Nd4j.zeros(DataType.DOUBLE, rank, in), Nd4j.zeros(DataType.DOUBLE, out, rank), 1);
    INDArray dw = Nd4j.zeros(DataType.DOUBLE, out, in);
    INDArray dx = Ops.linearBackward(r, x, w, lora, f, grads, dw);
    java.util.function.DoubleSupplier loss = () -> dot(Ops.linear(x, w, lora, keep).y(), r);
    FiniteDifferences.check("x", x, dx, loss, 20, random);
    FiniteDifferences.check("W", w, dw, loss, 12, random);
    FiniteDifferences.check("A", lora.a(), grads.a(), loss, 12, random);
    FiniteDifferences.check("B", lora.b(), grads.b(), loss, 12, random);
  }

  @Test
  void crossEntropyWithSkippedRows() {
    INDArray logits = FiniteDifferences.random(random, 4, 9).muli(3);
    int[] targets = {2, -1, 8, 0};
    double[] weights = {0.5, 0, 0.25, 0.25};
    java.util.function.DoubleSupplier loss =
        () -> {
          double[] logProb = Ops.crossEntropy(logits.dup(), targets, null).targetLogProb();
          double sum = 0;
          for (int i = 0; i < logProb.length; i++) {
            sum -= weights[i] * logProb[i];
          }
          return sum;
        };
    INDArray grad = logits.dup();
    Ops.crossEntropy(grad, targets, weights);
    FiniteDifferences.check("logits", logits, grad, loss, 30, random);
  }
}
