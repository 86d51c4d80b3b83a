package org.rankadaptor.dl4j.llama;

/**
 * A training micro-batch: token sequences of possibly different lengths (padded on the right inside
 * the model) and which of their tokens count as next-token prediction targets.
 *
 * @param sequences token ids, one array per sequence, each at least 2 long
 * @param targetMask per sequence and position, whether token {@code t} (predicted from tokens {@code
 *     0..t-1}) enters the loss; position 0 is never a target. Lets a prompt be excluded from the loss.
 * @since 0.1.0
 */
public record LlamaBatch(int[][] sequences, boolean[][] targetMask) {

  /** Validates that every sequence has a mask of its length. */
  public LlamaBatch {
    if (sequences.length == 0) {
      throw new IllegalArgumentException("empty batch");
    }
    if (targetMask.length != sequences.length) {
      throw new IllegalArgumentException(
          targetMask.length + " target masks for " + sequences.length + " sequences");
    }
    for (int b = 0; b < sequences.length; b++) {
      if (sequences[b].length < 2) {
        throw new IllegalArgumentException("sequence " + b + " has fewer than 2 tokens");
      }
      if (targetMask[b].length != sequences[b].length) {
        throw new IllegalArgumentException(
            "sequence " + b + " has " + sequences[b].length + " tokens but a target mask of "
                + targetMask[b].length);
      }
    }
  }

  /** A batch in which every token after the first is a target. */
  public static LlamaBatch of(int[][] sequences) {
    boolean[][] mask = new boolean[sequences.length][];
    for (int b = 0; b < sequences.length; b++) {
      mask[b] = new boolean[sequences[b].length];
      java.util.Arrays.fill(mask[b], true);
    }
    return new LlamaBatch(sequences, mask);
  }

  /** Number of tokens that enter the loss. */
  public int targetCount() {
    int count = 0;
    for (boolean[] mask : targetMask) {
      for (int t = 1; t < mask.length; t++) {
        count += mask[t] ? 1 : 0;
      }
    }
    return count;
  }
}
