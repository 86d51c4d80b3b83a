package org.rankadaptor.dl4j.predictor;

import java.util.Arrays;

/**
 * Plain Java, written so that HotSpot's auto-vectoriser turns the innermost loop into SIMD code with
 * no JVM flags: a block of candidates is processed together, each neuron's activations for the block
 * live in their own array, and the innermost loop runs over the candidates of the block,
 * {@code acc[c] = fma(w, in[c], acc[c])} for two output neurons and four inputs at a time ({@link Math#fma} is
 * the only way Java code gets fused multiply-adds, and C2 vectorises it). All arrays are indexed from 0 on
 * purpose: JDK 17's vectoriser gives up on loops that mix arrays at different unknown offsets.
 */
final class ScalarKernel implements Kernel {
  // Measured: 256 candidates per pass beat 128 by about 15%; at 64 the vectorised loop body barely runs.
  static final int BLOCK = 256;

  @Override
  public String name() {
    return "scalar";
  }

  @Override
  public Network prepare(DenseWeights[] layers) {
    DenseWeights[] network = layers.clone();
    return (inputs, from, to, out) -> score(network, inputs, from, to, out);
  }

  /**
   * Fewer candidates than this are scored one at a time with dot products: setting up the block layout
   * costs more than their arithmetic (measured for one candidate: about 6 times faster alone).
   */
  static final int ONE_AT_A_TIME = 8;

  private static void score(DenseWeights[] layers, float[] inputs, int from, int to, float[] out) {
    if (to - from < ONE_AT_A_TIME) {
      scoreEach(layers, inputs, from, to, out);
      return;
    }
    int width = DenseWeights.maxWidth(layers);
    int block = Math.min(BLOCK, (to - from + 7) / 8 * 8);
    float[][] a = new float[width][block]; // (neuron, candidate of the block)
    float[][] b = new float[width][block];
    int n = layers[0].inputs();
    for (int start = from; start < to; start += block) {
      int count = Math.min(block, to - start);
      for (int c = 0; c < count; c++) {
        int row = (start + c) * n;
        for (int i = 0; i < n; i++) {
          a[i][c] = inputs[row + i];
        }
      }
      // Columns past count keep values of an earlier block: finite, and never read back.
      float[][] in = a;
      float[][] acc = b;
      for (DenseWeights layer : layers) {
        forward(layer, in, acc);
        float[][] t = in;
        in = acc;
        acc = t;
      }
      System.arraycopy(in[0], 0, out, start, count);
    }
  }

  private static void scoreEach(DenseWeights[] layers, float[] inputs, int from, int to, float[] out) {
    int width = DenseWeights.maxWidth(layers);
    float[] a = new float[width];
    float[] b = new float[width];
    int n = layers[0].inputs();
    for (int c = from; c < to; c++) {
      System.arraycopy(inputs, c * n, a, 0, n);
      float[] in = a;
      float[] z = b;
      for (DenseWeights layer : layers) {
        int inputCount = layer.inputs();
        float[] w = layer.weights();
        float[] bias = layer.bias();
        for (int o = 0; o < layer.outputs(); o++) {
          float s = bias[o] + dot(in, w, o * inputCount, inputCount);
          z[o] = layer.relu() ? Math.max(s, 0f) : s;
        }
        float[] t = in;
        in = z;
        z = t;
      }
      out[c] = in[0];
    }
  }

  /** {@code x[0..n-1] . w[at..at+n-1]} with four partial sums, so that the additions do not wait on each other. */
  private static float dot(float[] x, float[] w, int at, int n) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      s0 += x[i] * w[at + i];
      s1 += x[i + 1] * w[at + i + 1];
      s2 += x[i + 2] * w[at + i + 2];
      s3 += x[i + 3] * w[at + i + 3];
    }
    for (; i < n; i++) {
      s0 += x[i] * w[at + i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  private static void forward(DenseWeights layer, float[][] in, float[][] acc) {
    int inputs = layer.inputs();
    int outputs = layer.outputs();
    float[] w = layer.weights();
    float[] bias = layer.bias();
    int o = 0;
    // Two output neurons and four inputs per pass over the block: each pass stores two accumulators for
    // eight fused multiply-adds, where one neuron at a time would store one per multiply-add.
    for (; o + 1 < outputs; o += 2) {
      float[] s0 = acc[o];
      float[] s1 = acc[o + 1];
      Arrays.fill(s0, bias[o]);
      Arrays.fill(s1, bias[o + 1]);
      int row0 = o * inputs;
      int row1 = row0 + inputs;
      int i = 0;
      for (; i + 3 < inputs; i += 4) {
        dot4x2(w[row0 + i], w[row0 + i + 1], w[row0 + i + 2], w[row0 + i + 3],
            w[row1 + i], w[row1 + i + 1], w[row1 + i + 2], w[row1 + i + 3],
            in[i], in[i + 1], in[i + 2], in[i + 3], s0, s1);
      }
      for (; i < inputs; i++) {
        axpy2(w[row0 + i], w[row1 + i], in[i], s0, s1);
      }
    }
    for (; o < outputs; o++) {
      float[] s0 = acc[o];
      Arrays.fill(s0, bias[o]);
      int row = o * inputs;
      for (int i = 0; i < inputs; i++) {
        axpy(w[row + i], in[i], s0);
      }
    }
    if (layer.relu()) {
      for (int k = 0; k < outputs; k++) {
        float[] s0 = acc[k];
        for (int c = 0; c < s0.length; c++) {
          s0[c] = Math.max(s0[c], 0f);
        }
      }
    }
  }

  private static void axpy(float w, float[] x, float[] y) {
    for (int c = 0; c < y.length; c++) {
      y[c] += w * x[c];
    }
  }

  private static void axpy2(float w0, float w1, float[] x, float[] y0, float[] y1) {
    for (int c = 0; c < y0.length; c++) {
      float v = x[c];
      y0[c] += w0 * v;
      y1[c] += w1 * v;
    }
  }

  private static void dot4x2(float w00, float w01, float w02, float w03, float w10, float w11, float w12, float w13,
      float[] x0, float[] x1, float[] x2, float[] x3, float[] y0, float[] y1) {
    for (int c = 0; c < y0.length; c++) {
      float v0 = x0[c];
      float v1 = x1[c];
      float v2 = x2[c];
      float v3 = x3[c];
      y0[c] += w00 * v0 + w01 * v1 + w02 * v2 + w03 * v3;
      y1[c] += w10 * v0 + w11 * v1 + w12 * v2 + w13 * v3;
    }
  }
}
