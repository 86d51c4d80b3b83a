package org.rankadaptor.dl4j.predictor;

import java.util.Arrays;

/**
 * Plain Java, written so that HotSpot's auto-vectoriser turns the innermost loop into SIMD code with
 * no JVM flags: a block of candidates is processed together, each neuron's activations for the block
 * live in their own array, and the innermost loop runs over the candidates of the block,
 * {@code acc[c] += w * in[c]}, four output neurons at a time. Both arrays are indexed from 0 on purpose: JDK 17's vectoriser gives up
 * on loops that mix arrays at different unknown offsets.
 */
final class ScalarKernel implements Kernel {
  static final int BLOCK = 128;

  @Override
  public String name() {
    return "scalar";
  }

  @Override
  public void score(DenseWeights[] layers, float[] inputs, int from, int to, float[] out) {
    int width = DenseWeights.maxWidth(layers);
    // A short range (one candidate, say) gets a narrower block instead of a padded full one.
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

  private static void forward(DenseWeights layer, float[][] in, float[][] acc) {
    int inputs = layer.inputs();
    int outputs = layer.outputs();
    float[] w = layer.weights();
    float[] bias = layer.bias();
    int o = 0;
    // Four output neurons per pass: each input column is loaded once for four multiply-adds.
    for (; o + 3 < outputs; o += 4) {
      float[] s0 = acc[o];
      float[] s1 = acc[o + 1];
      float[] s2 = acc[o + 2];
      float[] s3 = acc[o + 3];
      Arrays.fill(s0, bias[o]);
      Arrays.fill(s1, bias[o + 1]);
      Arrays.fill(s2, bias[o + 2]);
      Arrays.fill(s3, bias[o + 3]);
      int row = o * inputs;
      for (int i = 0; i < inputs; i++) {
        axpy4(w[row + i], w[row + inputs + i], w[row + 2 * inputs + i], w[row + 3 * inputs + i], in[i], s0, s1, s2, s3);
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

  private static void axpy4(float w0, float w1, float w2, float w3, float[] x, float[] y0, float[] y1, float[] y2,
      float[] y3) {
    for (int c = 0; c < y0.length; c++) {
      float v = x[c];
      y0[c] += w0 * v;
      y1[c] += w1 * v;
      y2[c] += w2 * v;
      y3[c] += w3 * v;
    }
  }
}
