package org.rankadaptor.dl4j.predictor;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Trains one network of the shape {@link Member} builds (dense ReLU layers, one linear output, MSE, L2 on
 * the weights, Adam) in plain float arrays, computing what DL4J's {@code MultiLayerNetwork.fit} computes
 * for one mini-batch: the gradient of the squared error averaged over the batch, plus {@code l2 * W} for
 * the weights (not the biases), then DL4J's Adam step
 *
 * <pre>
 *   m = beta1 m + (1 - beta1) g
 *   v = beta2 v + (1 - beta2) g^2
 *   p = p - lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)     (t = iteration + 1)
 * </pre>
 *
 * <p>Why not DL4J itself: the predictor's batches are 32 rows by 32 columns, so each DL4J step spends
 * almost all its time in the per-op overhead of ND4J's native calls (measured in {@code PredictorBenchmark}
 * on a busy 2-vCPU machine: about 7 ms per DL4J step, under 0.1 ms per step here). The network stays DL4J's: parameters and Adam moments use DL4J's flattened order
 * ({@code W} of each layer as (outputs, inputs) row-major, then its bias), so they go back into the
 * {@code MultiLayerNetwork} unchanged.
 *
 * <p>The innermost loops all start at index 0 of their arrays and run over one layer's width: that is
 * the form HotSpot's auto-vectoriser turns into SIMD code. Mutable and not thread-safe; one per network
 * being trained.
 */
final class MlpTrainer {
  private final int[] widths; // input, hidden..., 1
  private final int[] offsets; // (layer) where the layer's W starts in the flat vectors; its bias follows W
  private final float learningRate;
  private final float l2;
  private final float beta1;
  private final float beta2;
  private final float epsilon;

  final float[] params; // (parameter) DL4J's flattened order
  final float[] m; // (parameter) Adam's first moment
  final float[] v; // (parameter) Adam's second moment
  int iteration; // Adam steps taken since the optimiser was last reset

  private final float[] gradient; // (parameter)
  private final float[][][] weightsIn; // (layer, input, output): W transposed, for the forward pass
  private final float[][][] weightsOut; // (layer, output, input): W, for the backward pass
  private final float[][] biases; // (layer, output)
  private final float[][][] activations; // (layer boundary, row, width): inputs, hidden outputs, prediction
  private final float[][][] deltas; // (layer boundary, row, width): loss gradient at each boundary
  private final float[][][] weightGradients; // (layer, output, input)
  private final float[][] biasGradients; // (layer, output)
  private int capacity; // rows the activation buffers hold

  /**
   * A trainer starting from these parameters with a fresh optimiser.
   *
   * @param widths input, hidden widths, then 1
   * @param params (parameter) DL4J's flattened order; copied
   */
  MlpTrainer(int[] widths, float[] params, double learningRate, double l2, double beta1, double beta2,
      double epsilon) {
    this.widths = widths.clone();
    int layers = widths.length - 1;
    this.offsets = new int[layers];
    int count = 0;
    for (int l = 0; l < layers; l++) {
      offsets[l] = count;
      count += widths[l] * widths[l + 1] + widths[l + 1];
    }
    if (params.length != count) {
      throw new IllegalArgumentException("widths " + Arrays.toString(widths) + " need " + count
          + " parameters, got " + params.length);
    }
    this.learningRate = (float) learningRate;
    this.l2 = (float) l2;
    this.beta1 = (float) beta1;
    this.beta2 = (float) beta2;
    this.epsilon = (float) epsilon;
    this.params = params.clone();
    this.m = new float[count];
    this.v = new float[count];
    this.gradient = new float[count];
    this.weightsIn = new float[layers][][];
    this.weightsOut = new float[layers][][];
    this.biases = new float[layers][];
    this.weightGradients = new float[layers][][];
    this.biasGradients = new float[layers][];
    for (int l = 0; l < layers; l++) {
      weightsIn[l] = new float[widths[l]][widths[l + 1]];
      weightsOut[l] = new float[widths[l + 1]][widths[l]];
      biases[l] = new float[widths[l + 1]];
      weightGradients[l] = new float[widths[l + 1]][widths[l]];
      biasGradients[l] = new float[widths[l + 1]];
    }
    this.activations = new float[widths.length][][];
    this.deltas = new float[widths.length][][];
    ensureRows(32);
  }

  /** Continues from {@code parameters} with a fresh optimiser (zero moments, iteration 0). */
  void reset(float[] parameters) {
    System.arraycopy(parameters, 0, params, 0, params.length);
    Arrays.fill(m, 0f);
    Arrays.fill(v, 0f);
    iteration = 0;
  }

  /**
   * Takes {@code steps} Adam steps on mini-batches of the data. Mini-batches are consecutive slices of
   * seeded shuffles, so each epoch sees every example once; the shuffles draw from {@code random} exactly
   * as the mini-batches of DL4J training did, so a seed gives the same batches.
   *
   * @param x inputs, one row per example, already normalised
   * @param y targets, already normalised
   */
  void train(float[][] x, float[] y, int steps, int batchSize, SplittableRandom random) {
    int size = Math.min(batchSize, x.length);
    int[] order = new int[x.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    int position = order.length; // shuffle before the first batch
    for (int step = 0; step < steps; step++) {
      if (position + size > order.length) {
        for (int i = order.length - 1; i > 0; i--) {
          int j = random.nextInt(i + 1);
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
        position = 0;
      }
      step(x, y, order, position, size);
      position += size;
    }
  }

  /** One Adam step on the examples {@code order[from..from+count-1]}. */
  void step(float[][] x, float[] y, int[] order, int from, int count) {
    ensureRows(count);
    unpackWeights();
    float[][] input = activations[0];
    for (int r = 0; r < count; r++) {
      System.arraycopy(x[order[from + r]], 0, input[r], 0, widths[0]);
    }
    int layers = widths.length - 1;
    for (int l = 0; l < layers; l++) {
      forward(l, count);
    }
    // MSE with one output: d(mean over the batch of (p - y)^2)/dp = 2 (p - y) / count.
    float[][] prediction = activations[layers];
    float[][] top = deltas[layers];
    float scale = 2f / count;
    for (int r = 0; r < count; r++) {
      top[r][0] = (prediction[r][0] - y[order[from + r]]) * scale;
    }
    for (int l = layers - 1; l >= 0; l--) {
      backward(l, count);
    }
    adam();
  }

  /** The gradient of the last {@link #step} (batch mean plus the L2 term), for tests. */
  float[] lastGradient() {
    return gradient.clone();
  }

  /**
   * The mean squared error over the examples {@code order[from..from+count-1]} plus
   * {@code l2/2 * |W|^2}, the loss whose gradient a step follows (for tests).
   */
  double loss(float[][] x, float[] y, int[] order, int from, int count) {
    ensureRows(count);
    unpackWeights();
    for (int r = 0; r < count; r++) {
      System.arraycopy(x[order[from + r]], 0, activations[0][r], 0, widths[0]);
    }
    int layers = widths.length - 1;
    for (int l = 0; l < layers; l++) {
      forward(l, count);
    }
    double sum = 0;
    for (int r = 0; r < count; r++) {
      double e = activations[layers][r][0] - y[order[from + r]];
      sum += e * e;
    }
    double penalty = 0;
    for (int l = 0; l < layers; l++) {
      for (int k = offsets[l]; k < offsets[l] + widths[l] * widths[l + 1]; k++) {
        penalty += (double) params[k] * params[k];
      }
    }
    return sum / count + 0.5 * l2 * penalty;
  }

  private void ensureRows(int rows) {
    if (rows <= capacity) {
      return;
    }
    for (int b = 0; b < widths.length; b++) {
      activations[b] = new float[rows][widths[b]];
      deltas[b] = new float[rows][widths[b]];
    }
    capacity = rows;
  }

  /** Copies W and b out of the flat parameters into the per-row arrays the loops run over. */
  private void unpackWeights() {
    for (int l = 0; l < weightsOut.length; l++) {
      int inputs = widths[l];
      int outputs = widths[l + 1];
      float[][] out = weightsOut[l];
      float[][] in = weightsIn[l];
      int at = offsets[l];
      for (int o = 0; o < outputs; o++) {
        System.arraycopy(params, at + o * inputs, out[o], 0, inputs);
        float[] row = out[o];
        for (int i = 0; i < inputs; i++) {
          in[i][o] = row[i];
        }
      }
      System.arraycopy(params, at + inputs * outputs, biases[l], 0, outputs);
    }
  }

  private void forward(int l, int rows) {
    int inputs = widths[l];
    boolean relu = l < widths.length - 2;
    float[] bias = biases[l];
    if (widths[l + 1] == 1) {
      float[] w = weightsOut[l][0];
      for (int r = 0; r < rows; r++) {
        activations[l + 1][r][0] = bias[0] + dot(activations[l][r], w);
      }
      return;
    }
    float[][] w = weightsIn[l];
    for (int r = 0; r < rows; r++) {
      float[] a = activations[l][r];
      float[] z = activations[l + 1][r];
      System.arraycopy(bias, 0, z, 0, z.length);
      int i = 0;
      for (; i + 3 < inputs; i += 4) {
        axpy4(a[i], w[i], a[i + 1], w[i + 1], a[i + 2], w[i + 2], a[i + 3], w[i + 3], z);
      }
      for (; i < inputs; i++) {
        axpy(a[i], w[i], z);
      }
      if (relu) {
        for (int o = 0; o < z.length; o++) {
          z[o] = Math.max(z[o], 0f);
        }
      }
    }
  }

  /** From the loss gradient at the layer's output (already through the activation) to W, b and the input. */
  private void backward(int l, int rows) {
    int outputs = widths[l + 1];
    float[][] gw = weightGradients[l];
    float[] gb = biasGradients[l];
    for (float[] row : gw) {
      Arrays.fill(row, 0f);
    }
    Arrays.fill(gb, 0f);
    float[][] d = deltas[l + 1];
    float[][] a = activations[l];
    // Four rows of the batch per pass: one store of a gradient row per four multiply-adds.
    int r = 0;
    for (; r + 3 < rows; r += 4) {
      float[] d0 = d[r];
      float[] d1 = d[r + 1];
      float[] d2 = d[r + 2];
      float[] d3 = d[r + 3];
      for (int o = 0; o < outputs; o++) {
        axpy4(d0[o], a[r], d1[o], a[r + 1], d2[o], a[r + 2], d3[o], a[r + 3], gw[o]);
      }
      add4(d0, d1, d2, d3, gb);
    }
    for (; r < rows; r++) {
      for (int o = 0; o < outputs; o++) {
        axpy(d[r][o], a[r], gw[o]);
      }
      add(d[r], gb);
    }
    if (l > 0) {
      float[][] w = weightsOut[l];
      for (r = 0; r < rows; r++) {
        float[] dr = d[r];
        float[] below = deltas[l][r];
        Arrays.fill(below, 0f);
        int o = 0;
        for (; o + 3 < outputs; o += 4) {
          axpy4(dr[o], w[o], dr[o + 1], w[o + 1], dr[o + 2], w[o + 2], dr[o + 3], w[o + 3], below);
        }
        for (; o < outputs; o++) {
          axpy(dr[o], w[o], below);
        }
        // ReLU: the gradient passes where the unit was active (its output > 0).
        float[] active = a[r];
        for (int i = 0; i < below.length; i++) {
          below[i] = active[i] > 0f ? below[i] : 0f;
        }
      }
    }
    int inputs = widths[l];
    int at = offsets[l];
    for (int o = 0; o < outputs; o++) {
      System.arraycopy(gw[o], 0, gradient, at + o * inputs, inputs);
    }
    System.arraycopy(gb, 0, gradient, at + inputs * outputs, outputs);
    if (l2 > 0) {
      for (int k = at; k < at + inputs * outputs; k++) {
        gradient[k] += l2 * params[k];
      }
    }
  }

  /** DL4J's Adam (its native {@code adam_updater}): the step size carries both bias corrections. */
  private void adam() {
    int t = iteration + 1;
    float beta1T = (float) Math.pow(beta1, t);
    float beta2T = (float) Math.pow(beta2, t);
    float stepSize = (float) (learningRate * Math.sqrt(1.0 - beta2T) / (1.0 - beta1T));
    if (!Float.isFinite(stepSize) || stepSize == 0f) {
      stepSize = epsilon; // DL4J's fallback
    }
    float keep1 = beta1;
    float take1 = 1f - beta1;
    float keep2 = beta2;
    float take2 = 1f - beta2;
    float eps = epsilon;
    float[] p = params;
    float[] g = gradient;
    float[] m1 = m;
    float[] m2 = v;
    for (int k = 0; k < p.length; k++) {
      float gk = g[k];
      float mk = keep1 * m1[k] + gk * take1;
      float vk = keep2 * m2[k] + gk * gk * take2;
      m1[k] = mk;
      m2[k] = vk;
      p[k] -= mk * stepSize / ((float) Math.sqrt(vk) + eps);
    }
    iteration++;
  }

  private static void axpy(float a, float[] x, float[] y) {
    for (int k = 0; k < y.length; k++) {
      y[k] += a * x[k];
    }
  }

  private static void axpy4(float a0, float[] x0, float a1, float[] x1, float a2, float[] x2, float a3, float[] x3,
      float[] y) {
    for (int k = 0; k < y.length; k++) {
      y[k] += a0 * x0[k] + a1 * x1[k] + a2 * x2[k] + a3 * x3[k];
    }
  }

  private static void add(float[] x, float[] y) {
    for (int k = 0; k < y.length; k++) {
      y[k] += x[k];
    }
  }

  private static void add4(float[] x0, float[] x1, float[] x2, float[] x3, float[] y) {
    for (int k = 0; k < y.length; k++) {
      y[k] += x0[k] + x1[k] + x2[k] + x3[k];
    }
  }

  /** A dot product with four partial sums, so that the additions do not wait on each other. */
  private static float dot(float[] x, float[] y) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int k = 0;
    for (; k + 3 < x.length; k += 4) {
      s0 += x[k] * y[k];
      s1 += x[k + 1] * y[k + 1];
      s2 += x[k + 2] * y[k + 2];
      s3 += x[k + 3] * y[k + 3];
    }
    for (; k < x.length; k++) {
      s0 += x[k] * y[k];
    }
    return (s0 + s1) + (s2 + s3);
  }
}
