package org.rankadaptor.dl4j.recover;

import java.util.Arrays;

/**
 * One training sequence for next-token recovery. {@code lossMask[i]} says whether token i is a target,
 * that is whether the model's prediction of {@code tokens[i]} from {@code tokens[0..i-1]} enters the
 * loss; {@code lossMask[0]} is always false since nothing predicts the first token.
 *
 * <p>Arrays are shared, not copied; callers must not modify them. Equality compares contents.
 *
 * @param tokens token ids  // (T)
 * @param lossMask which tokens are targets  // (T)
 * @since 0.1.0
 */
public record TrainingExample(int[] tokens, boolean[] lossMask) {

  /** Checks that tokens and loss mask agree in length and the first token is not a target. */
  public TrainingExample {
    if (tokens == null || lossMask == null || tokens.length != lossMask.length) {
      throw new IllegalArgumentException("tokens and loss mask must have the same length");
    }
    if (tokens.length > 0 && lossMask[0]) {
      throw new IllegalArgumentException("the first token cannot be a target: nothing predicts it");
    }
  }

  /** Number of tokens. */
  public int length() {
    return tokens.length;
  }

  /** Number of target tokens. */
  public int targetCount() {
    int n = 0;
    for (boolean b : lossMask) {
      n += b ? 1 : 0;
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrainingExample e && Arrays.equals(tokens, e.tokens) && Arrays.equals(lossMask, e.lossMask);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(tokens) + Arrays.hashCode(lossMask);
  }

  @Override
  public String toString() {
    return "TrainingExample[" + tokens.length + " tokens, " + targetCount() + " targets]";
  }
}
