package org.rankadaptor.dl4j.llama;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The element-wise and row-wise operations of {@link Ops} written as ND4J operations, for backends whose
 * buffers live on a device: {@link Kernels}' loops read and write host memory, which there would copy
 * every activation to the host and back. Same results as the loops up to float rounding (the loops
 * accumulate in double), which {@code NdOpsTest} checks on the CPU.
 */
final class NdOps {
  private NdOps() {}

  /** RMSNorm forward. */
  static Ops.NormOut rmsNorm(INDArray x, INDArray w, double eps) {
    INDArray invRms = Transforms.pow(x.mul(x).mean(true, 1).addi(eps), -0.5, false);
    INDArray y = x.mulColumnVector(invRms).muliRowVector(w);
    return new Ops.NormOut(y, invRms);
  }

  /** RMSNorm's input gradient {@code dx = r*g - x * r^3 * sum(g*x)/D}, {@code g = dy*w}. */
  static INDArray rmsNormBackwardInput(INDArray dy, INDArray x, INDArray w, INDArray invRms) {
    int dim = (int) x.size(1);
    INDArray g = dy.mulRowVector(w);
    INDArray coef = invRms.mul(invRms).muli(invRms).muli(g.mul(x).sum(true, 1)).divi(dim);
    return g.muliColumnVector(invRms).subi(x.mulColumnVector(coef));
  }

  /** RoPE over interleaved pairs, as {@link Ops#rope}. */
  static INDArray rope(INDArray x, int batch, int t, int heads, int headDim, int offset, INDArray cos, INDArray sin) {
    int half = headDim / 2;
    INDArray pairs = x.dup('c').reshape('c', batch, t, heads, half, 2);
    INDArray even = pairs.get(all(), all(), all(), all(), point(0));
    INDArray odd = pairs.get(all(), all(), all(), all(), point(1));
    INDArray c = table(cos, offset, t, half).broadcast(batch, t, heads, half);
    INDArray s = table(sin, offset, t, half).broadcast(batch, t, heads, half);
    INDArray outEven = even.mul(c).subi(odd.mul(s));
    INDArray outOdd = even.mul(s).addi(odd.mul(c));
    return Nd4j.stack(4, outEven, outOdd).reshape('c', (long) batch * t, (long) heads * headDim);
  }

  private static INDArray table(INDArray angles, int offset, int t, int half) {
    return angles.get(interval(offset, offset + t), all()).dup('c').reshape('c', 1, t, 1, half);
  }

  /**
   * In place, the softmax of each row of {@code scores} (rows of {@code s} keys) over its first
   * {@code allowed[r]} keys, zero elsewhere.
   */
  static void maskedSoftmax(INDArray scores, int[] allowed, int s) {
    INDArray rows = scores.reshape('c', allowed.length, s);
    INDArray keep = keepMask(allowed, s, scores.dataType());
    // Forbidden keys pushed far below any score, then zeroed exactly after the softmax.
    INDArray masked = rows.add(keep.rsub(1.0).muli(-1e9));
    INDArray probs = Transforms.softmax(masked, false).muli(keep);
    scores.assign(probs.reshape('c', scores.shape())); // in place whether or not the reshape was a view
  }

  /** In place, {@code dS = P * (dP - sum_j dP_j P_j)} per row; zero where P is zero. */
  static void softmaxBackward(INDArray dP, INDArray probs, int rows, int s) {
    INDArray d = dP.reshape('c', rows, s);
    INDArray p = probs.reshape('c', rows, s);
    INDArray dot = d.mul(p).sum(true, 1);
    dP.assign(d.subColumnVector(dot).muli(p).reshape('c', dP.shape()));
  }

  private static INDArray keepMask(int[] allowed, int s, org.nd4j.linalg.api.buffer.DataType type) {
    float[] keep = new float[allowed.length * s];
    for (int r = 0; r < allowed.length; r++) {
      java.util.Arrays.fill(keep, r * s, r * s + allowed[r], 1f);
    }
    return Nd4j.create(keep, new long[] {allowed.length, s}, 'c').castTo(type);
  }

  /** SwiGLU forward, as {@link Ops#swiglu}. */
  static Ops.SwigluOut swiglu(INDArray gate, INDArray up) {
    INDArray sigmoid = Transforms.sigmoid(gate, true);
    return new Ops.SwigluOut(gate.mul(sigmoid).muli(up), sigmoid);
  }

  /** SwiGLU backward, as {@link Ops#swigluBackward}. */
  static Ops.SwigluGrads swigluBackward(INDArray da, INDArray gate, INDArray up, INDArray sigmoid) {
    INDArray dUp = da.mul(gate).muli(sigmoid);
    // d silu(g)/dg = s * (1 + g * (1 - s))
    INDArray dGate = da.mul(up).muli(sigmoid).muli(gate.mul(sigmoid.rsub(1.0)).addi(1.0));
    return new Ops.SwigluGrads(dGate, dUp);
  }

  /** Softmax cross-entropy of a block of logits, as {@link Ops#crossEntropy}. */
  static Ops.RowScores crossEntropy(INDArray logits, int[] targets, double[] rowWeights) {
    int rows = (int) logits.size(0);
    INDArray max = logits.max(true, 1);
    long[] argmax = Nd4j.argMax(logits, 1).toLongVector();
    double[] maxes = max.toDoubleVector();
    double[] targetLogits = new double[rows];
    for (int i = 0; i < rows; i++) {
      targetLogits[i] = targets[i] >= 0 ? logits.getDouble(i, targets[i]) : 0;
    }
    INDArray exp = Transforms.exp(logits.subColumnVector(max), false);
    INDArray sum = exp.sum(true, 1);
    double[] sums = sum.toDoubleVector();
    double[] logProb = new double[rows];
    boolean[] greedy = new boolean[rows];
    for (int i = 0; i < rows; i++) {
      if (targets[i] >= 0) {
        logProb[i] = targetLogits[i] - maxes[i] - Math.log(sums[i]);
        greedy[i] = argmax[i] == targets[i];
      }
    }
    if (rowWeights != null) {
      // dlogits = w_i * (softmax - onehot(target))
      INDArray weights = Nd4j.create(rowWeights, new long[] {rows, 1}, 'c').castTo(logits.dataType());
      INDArray grad = exp.diviColumnVector(sum).muliColumnVector(weights);
      for (int i = 0; i < rows; i++) {
        if (targets[i] >= 0 && rowWeights[i] != 0) {
          grad.putScalar(i, targets[i], grad.getDouble(i, targets[i]) - rowWeights[i]);
        }
      }
      logits.assign(grad);
    }
    return new Ops.RowScores(logProb, greedy);
  }
}
