package org.rankadaptor.dl4j.predictor;

/**
 * Evaluates a dense ReLU network on a range of candidates. Implementations differ only in how they
 * vectorise; every one must give the same numbers as DL4J within float rounding.
 */
interface Kernel {

  /**
   * Scores candidates {@code from..to-1}.
   *
   * @param layers the network, input layer first; the last layer has one output and no ReLU
   * @param inputs row-major inputs, {@code layers[0].inputs()} per candidate
   * @param out receives one score per candidate, at the candidate's index
   */
  void score(DenseWeights[] layers, float[] inputs, int from, int to, float[] out);

  /** A short name for logs and benchmarks. */
  String name();
}
