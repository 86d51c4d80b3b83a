package org.rankadaptor.dl4j.predictor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Java Vector API kernel (incubating in Java 17: the JVM must run with
 * {@code --add-modules jdk.incubator.vector}). Only {@link MlpScorer} loads this class, and only after
 * finding the module in the boot layer, so nothing else needs the flag.
 *
 * <p>Register blocking: for two output neurons and four vectors of candidates at a time, eight
 * accumulators stay in registers across the whole input loop; each input costs four vector loads and
 * two broadcasts for eight fused multiply-adds.
 */
final class VectorKernel implements Kernel {
  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();
  private static final int TILE = 4 * LANES; // candidates per register tile
  static final int BLOCK = Math.max(64, TILE);

  @Override
  public String name() {
    return "vector-" + SPECIES.vectorBitSize();
  }

  @Override
  public void score(DenseWeights[] layers, float[] inputs, int from, int to, float[] out) {
    int width = DenseWeights.maxWidth(layers);
    float[] a = new float[width * BLOCK]; // (neuron, candidate of the block)
    float[] b = new float[width * BLOCK];
    int n = layers[0].inputs();
    for (int start = from; start < to; start += BLOCK) {
      int count = Math.min(BLOCK, to - start);
      for (int c = 0; c < count; c++) {
        int row = (start + c) * n;
        for (int i = 0; i < n; i++) {
          a[i * BLOCK + c] = inputs[row + i];
        }
      }
      float[] in = a;
      float[] acc = b;
      for (DenseWeights layer : layers) {
        forward(layer, in, acc);
        float[] t = in;
        in = acc;
        acc = t;
      }
      System.arraycopy(in, 0, out, start, count);
    }
  }

  private static void forward(DenseWeights layer, float[] in, float[] out) {
    int inputs = layer.inputs();
    int outputs = layer.outputs();
    float[] w = layer.weights();
    float[] bias = layer.bias();
    boolean relu = layer.relu();
    for (int tile = 0; tile < BLOCK; tile += TILE) {
      int o = 0;
      for (; o + 1 < outputs; o += 2) {
        FloatVector b0 = FloatVector.broadcast(SPECIES, bias[o]);
        FloatVector b1 = FloatVector.broadcast(SPECIES, bias[o + 1]);
        FloatVector s00 = b0, s01 = b0, s02 = b0, s03 = b0;
        FloatVector s10 = b1, s11 = b1, s12 = b1, s13 = b1;
        int row0 = o * inputs;
        int row1 = row0 + inputs;
        for (int i = 0; i < inputs; i++) {
          int at = i * BLOCK + tile;
          FloatVector x0 = FloatVector.fromArray(SPECIES, in, at);
          FloatVector x1 = FloatVector.fromArray(SPECIES, in, at + LANES);
          FloatVector x2 = FloatVector.fromArray(SPECIES, in, at + 2 * LANES);
          FloatVector x3 = FloatVector.fromArray(SPECIES, in, at + 3 * LANES);
          FloatVector w0 = FloatVector.broadcast(SPECIES, w[row0 + i]);
          FloatVector w1 = FloatVector.broadcast(SPECIES, w[row1 + i]);
          s00 = x0.fma(w0, s00);
          s01 = x1.fma(w0, s01);
          s02 = x2.fma(w0, s02);
          s03 = x3.fma(w0, s03);
          s10 = x0.fma(w1, s10);
          s11 = x1.fma(w1, s11);
          s12 = x2.fma(w1, s12);
          s13 = x3.fma(w1, s13);
        }
        int at0 = o * BLOCK + tile;
        int at1 = at0 + BLOCK;
        store(s00, relu, out, at0);
        store(s01, relu, out, at0 + LANES);
        store(s02, relu, out, at0 + 2 * LANES);
        store(s03, relu, out, at0 + 3 * LANES);
        store(s10, relu, out, at1);
        store(s11, relu, out, at1 + LANES);
        store(s12, relu, out, at1 + 2 * LANES);
        store(s13, relu, out, at1 + 3 * LANES);
      }
      for (; o < outputs; o++) {
        FloatVector s0 = FloatVector.broadcast(SPECIES, bias[o]);
        FloatVector s1 = s0, s2 = s0, s3 = s0;
        int row = o * inputs;
        for (int i = 0; i < inputs; i++) {
          int at = i * BLOCK + tile;
          FloatVector wv = FloatVector.broadcast(SPECIES, w[row + i]);
          s0 = FloatVector.fromArray(SPECIES, in, at).fma(wv, s0);
          s1 = FloatVector.fromArray(SPECIES, in, at + LANES).fma(wv, s1);
          s2 = FloatVector.fromArray(SPECIES, in, at + 2 * LANES).fma(wv, s2);
          s3 = FloatVector.fromArray(SPECIES, in, at + 3 * LANES).fma(wv, s3);
        }
        int at = o * BLOCK + tile;
        store(s0, relu, out, at);
        store(s1, relu, out, at + LANES);
        store(s2, relu, out, at + 2 * LANES);
        store(s3, relu, out, at + 3 * LANES);
      }
    }
  }

  private static void store(FloatVector v, boolean relu, float[] out, int at) {
    (relu ? v.max(0f) : v).intoArray(out, at);
  }
}
