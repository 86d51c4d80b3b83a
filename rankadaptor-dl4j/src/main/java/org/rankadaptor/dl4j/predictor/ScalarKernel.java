package org.rankadaptor.dl4j.predictor;

import java.util.Arrays;

/**
 * Plain Java, written so that HotSpot's auto-vectoriser turns the innermost loop into SIMD code with
 * no JVM flags: a block of candidates is processed together, each neuron's activations for the block
 * live in their own array, and the innermost loop runs over the candidates of the block,
 * {@code acc[c] += w * in[c]}. Both arrays are indexed from 0 on purpose: JDK 17's vectoriser gives up
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
    float[][] a = new float[width][BLOCK]; // (neuron, candidate of the block)
    float[][] b = new float[width][BLOCK];
    int n = layers[0].inputs();
    for (int start = from; start < to; start += BLOCK) {
      int count = Math.min(BLOCK, to - start);
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
    float[] weights = layer.weights();
    float[] bias = layer.bias();
    for (int o = 0; o < layer.outputs(); o++) {
      float[] sum = acc[o];
      Arrays.fill(sum, bias[o]);
      int row = o * inputs;
      for (int i = 0; i < inputs; i++) {
        axpy(weights[row + i], in[i], sum);
      }
      if (layer.relu()) {
        for (int c = 0; c < BLOCK; c++) {
          sum[c] = Math.max(sum[c], 0f);
        }
      }
    }
  }

  private static void axpy(float w, float[] x, float[] y) {
    for (int c = 0; c < BLOCK; c++) {
      y[c] += w * x[c];
    }
  }
}
