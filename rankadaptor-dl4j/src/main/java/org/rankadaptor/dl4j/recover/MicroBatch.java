package org.rankadaptor.dl4j.recover;

/**
 * A padded batch of training examples as plain arrays, ready to become tensors. Examples are padded on
 * the right to the longest in the batch; padding is neither attended to nor a target.
 *
 * <p>Arrays are shared, not copied; callers must not modify them.
 *
 * @param tokens token ids, padding with the pad id  // (batch, T)
 * @param lossMask 1 where the token is a target (see {@link TrainingExample}), else 0  // (batch, T)
 * @param attentionMask 1 on real tokens, 0 on padding  // (batch, T)
 * @param exampleIndices each row's index in the {@link TrainingData} it came from  // (batch)
 */
record MicroBatch(int[][] tokens, float[][] lossMask, float[][] attentionMask, int[] exampleIndices) {

  /** Number of rows. */
  public int batchSize() {
    return tokens.length;
  }

  /** Padded length T. */
  public int length() {
    return tokens.length == 0 ? 0 : tokens[0].length;
  }

  /** Number of target tokens over all rows. */
  public int targetTokens() {
    int n = 0;
    for (float[] row : lossMask) {
      for (float v : row) {
        n += v != 0 ? 1 : 0;
      }
    }
    return n;
  }
}
