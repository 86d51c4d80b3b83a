package org.rankadaptor.dl4j.predictor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Java Vector API kernel (incubating in Java 17: the JVM must run with
 * {@code --add-modules jdk.incubator.vector}). Only {@link MlpScorer} loads this class, and only after
 * finding the module in the boot layer, so nothing else needs the flag.
 *
 * <p>Output neurons lie in the vector lanes. A register tile holds two candidates by four vectors of
 * outputs (32 outputs with AVX2): for each input, four contiguous loads of that input's weights and two
 * broadcasts of the candidates' activations feed eight fused multiply-adds, and the eight accumulators
 * stay in registers across the whole input loop. The weights of a hidden layer are stored tile by tile,
 * {@code (output tile, input, output in tile)}, so that every index in the inner loop is the loop
 * counter times a constant plus an invariant, the form for which HotSpot removes the bounds checks from
 * the loop. Activations are kept per candidate, row-major, so the first layer reads the caller's inputs
 * where they are. The single-output last layer is a dot product per candidate.
 */
final class VectorKernel implements Kernel {
  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();
  private static final int TILE = 4 * LANES; // outputs per register tile
  /** Candidates that pass through all layers together; their activations stay in the L1 cache. */
  static final int BLOCK = 64;

  @Override
  public String name() {
    return "vector-" + SPECIES.vectorBitSize();
  }

  /**
   * A hidden layer with its outputs padded to whole tiles (zero weights and bias in the padding, so the
   * padded activations are 0).
   *
   * @param inputs inputs actually read per candidate
   * @param padded outputs written per candidate, a multiple of {@link #TILE}
   * @param weights (padded / TILE, inputs, TILE)
   * @param bias (padded)
   */
  private record Hidden(int inputs, int padded, float[] weights, float[] bias) {}

  /**
   * @param hidden the ReLU layers, in order
   * @param output (inputs) weights of the single linear output
   * @param bias of the output
   * @param width widest padded hidden layer, for scratch buffers
   */
  private record Tiled(Hidden[] hidden, float[] output, float bias, int width) implements Network {
    @Override
    public void score(float[] inputs, int from, int to, float[] out) {
      int rows = Math.min(BLOCK, to - from); // one candidate gets scratch for one, not a whole block
      float[] a = new float[rows * width]; // (candidate of the block, padded neuron)
      float[] b = new float[rows * width];
      int n = hidden.length > 0 ? hidden[0].inputs : output.length;
      for (int start = from; start < to; start += BLOCK) {
        int count = Math.min(BLOCK, to - start);
        float[] src = inputs;
        int offset = start * n;
        int stride = n;
        float[] dst = a;
        for (Hidden layer : hidden) {
          forward(layer, src, offset, stride, count, dst);
          src = dst;
          offset = 0;
          stride = layer.padded;
          dst = dst == a ? b : a;
        }
        linear(output, bias, src, offset, stride, count, out, start);
      }
    }
  }

  @Override
  public Network prepare(DenseWeights[] layers) {
    Hidden[] hidden = new Hidden[layers.length - 1];
    int width = 0;
    for (int l = 0; l < hidden.length; l++) {
      DenseWeights layer = layers[l];
      int inputs = layer.inputs();
      int outputs = layer.outputs();
      int padded = (outputs + TILE - 1) / TILE * TILE;
      float[] tiled = new float[Math.multiplyExact(inputs, padded)];
      for (int o = 0; o < outputs; o++) {
        int tile = o / TILE;
        for (int i = 0; i < inputs; i++) {
          tiled[(tile * inputs + i) * TILE + o % TILE] = layer.weights()[o * inputs + i];
        }
      }
      float[] bias = new float[padded];
      System.arraycopy(layer.bias(), 0, bias, 0, outputs);
      hidden[l] = new Hidden(inputs, padded, tiled, bias);
      width = Math.max(width, padded);
    }
    DenseWeights last = layers[layers.length - 1];
    return new Tiled(hidden, last.weights().clone(), last.bias()[0], width);
  }

  /** A ReLU layer: {@code dst} receives {@code padded} values per candidate. */
  private static void forward(Hidden layer, float[] src, int offset, int stride, int count, float[] dst) {
    int inputs = layer.inputs;
    int padded = layer.padded;
    float[] w = layer.weights;
    for (int o = 0; o < padded; o += TILE) {
      int tile = o / TILE * inputs * TILE;
      FloatVector b0 = FloatVector.fromArray(SPECIES, layer.bias, o);
      FloatVector b1 = FloatVector.fromArray(SPECIES, layer.bias, o + LANES);
      FloatVector b2 = FloatVector.fromArray(SPECIES, layer.bias, o + 2 * LANES);
      FloatVector b3 = FloatVector.fromArray(SPECIES, layer.bias, o + 3 * LANES);
      int c = 0;
      for (; c + 1 < count; c += 2) {
        int row0 = offset + c * stride;
        int row1 = row0 + stride;
        FloatVector s00 = b0, s01 = b1, s02 = b2, s03 = b3;
        FloatVector s10 = b0, s11 = b1, s12 = b2, s13 = b3;
        for (int i = 0; i < inputs; i++) {
          int at = tile + i * TILE;
          FloatVector x0 = FloatVector.broadcast(SPECIES, src[row0 + i]);
          FloatVector x1 = FloatVector.broadcast(SPECIES, src[row1 + i]);
          FloatVector w0 = FloatVector.fromArray(SPECIES, w, at);
          s00 = w0.fma(x0, s00);
          s10 = w0.fma(x1, s10);
          FloatVector w1 = FloatVector.fromArray(SPECIES, w, at + LANES);
          s01 = w1.fma(x0, s01);
          s11 = w1.fma(x1, s11);
          FloatVector w2 = FloatVector.fromArray(SPECIES, w, at + 2 * LANES);
          s02 = w2.fma(x0, s02);
          s12 = w2.fma(x1, s12);
          FloatVector w3 = FloatVector.fromArray(SPECIES, w, at + 3 * LANES);
          s03 = w3.fma(x0, s03);
          s13 = w3.fma(x1, s13);
        }
        int at0 = c * padded + o;
        int at1 = at0 + padded;
        relu(s00).intoArray(dst, at0);
        relu(s01).intoArray(dst, at0 + LANES);
        relu(s02).intoArray(dst, at0 + 2 * LANES);
        relu(s03).intoArray(dst, at0 + 3 * LANES);
        relu(s10).intoArray(dst, at1);
        relu(s11).intoArray(dst, at1 + LANES);
        relu(s12).intoArray(dst, at1 + 2 * LANES);
        relu(s13).intoArray(dst, at1 + 3 * LANES);
      }
      if (c < count) {
        int row = offset + c * stride;
        FloatVector s0 = b0, s1 = b1, s2 = b2, s3 = b3;
        for (int i = 0; i < inputs; i++) {
          int at = tile + i * TILE;
          FloatVector x = FloatVector.broadcast(SPECIES, src[row + i]);
          s0 = FloatVector.fromArray(SPECIES, w, at).fma(x, s0);
          s1 = FloatVector.fromArray(SPECIES, w, at + LANES).fma(x, s1);
          s2 = FloatVector.fromArray(SPECIES, w, at + 2 * LANES).fma(x, s2);
          s3 = FloatVector.fromArray(SPECIES, w, at + 3 * LANES).fma(x, s3);
        }
        int at = c * padded + o;
        relu(s0).intoArray(dst, at);
        relu(s1).intoArray(dst, at + LANES);
        relu(s2).intoArray(dst, at + 2 * LANES);
        relu(s3).intoArray(dst, at + 3 * LANES);
      }
    }
  }

  /** The single linear output: a dot product per candidate. */
  private static void linear(float[] w, float bias, float[] src, int offset, int stride, int count, float[] out,
      int outAt) {
    int inputs = w.length;
    int vectorEnd = SPECIES.loopBound(inputs);
    for (int c = 0; c < count; c++) {
      int row = offset + c * stride;
      FloatVector s = FloatVector.zero(SPECIES);
      for (int i = 0; i < vectorEnd; i += LANES) {
        s = FloatVector.fromArray(SPECIES, src, row + i).fma(FloatVector.fromArray(SPECIES, w, i), s);
      }
      float sum = s.reduceLanes(VectorOperators.ADD);
      for (int i = vectorEnd; i < inputs; i++) {
        sum += src[row + i] * w[i];
      }
      out[outAt + c] = sum + bias;
    }
  }

  private static FloatVector relu(FloatVector v) {
    return v.max(0f);
  }
}
