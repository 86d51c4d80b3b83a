package org.rankadaptor.dl4j.predictor;

/**
 * Evaluates a dense ReLU network on a range of candidates. Implementations differ only in how they
 * lay out the weights and vectorise; every one must give the same numbers as DL4J within float rounding.
 */
interface Kernel {

  /**
   * Lays one network out the way this kernel reads it; done once per scorer, not per batch.
   *
   * @param layers the network, input layer first; the last layer has one output and no ReLU
   */
  Network prepare(DenseWeights[] layers);

  /** A short name for logs and benchmarks. */
  String name();

  /** A network laid out for its kernel. Immutable, so threads may score with it at the same time. */
  interface Network {

    /**
     * Scores candidates {@code from..to-1}.
     *
     * @param inputs row-major inputs, the first layer's input width per candidate
     * @param out receives one score per candidate, at the candidate's index
     */
    void score(float[] inputs, int from, int to, float[] out);
  }
}
