package org.rankadaptor.dl4j.predictor;

/**
 * One dense layer in plain arrays, laid out for the scorer's kernels.
 *
 * @param inputs number of inputs
 * @param outputs number of outputs
 * @param weights (outputs, inputs) row-major: the weights of one output neuron are contiguous
 * @param bias (outputs)
 * @param relu whether a ReLU follows (every layer but the last)
 */
record DenseWeights(int inputs, int outputs, float[] weights, float[] bias, boolean relu) {

  DenseWeights {
    if (weights.length != inputs * outputs || bias.length != outputs) {
      throw new IllegalArgumentException("layer of " + inputs + " x " + outputs + " has " + weights.length
          + " weights and " + bias.length + " biases");
    }
  }

  /** The widest layer of a network, for scratch buffers. */
  static int maxWidth(DenseWeights[] layers) {
    int max = layers[0].inputs;
    for (DenseWeights layer : layers) {
      max = Math.max(max, layer.outputs);
    }
    return max;
  }
}
