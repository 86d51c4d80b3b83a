package org.rankadaptor.dl4j.recover;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rankadaptor.dl4j.io.Tokenizer;

/**
 * Plain text as training data: the token sequence cut into windows of a given length starting every
 * {@code stride} tokens, with every token of a window but its first as a target. A stride below the
 * length makes windows overlap (their shared tokens are trained twice); the last window may be shorter.
 *
 * @since 0.1.0
 */
public final class TextWindows {

  private TextWindows() {}

  /** Windows over a token sequence. */
  public static TrainingData of(int[] tokens, int length, int stride) {
    if (length < 2 || stride < 1) {
      throw new IllegalArgumentException(
          "window length must be at least 2 and stride at least 1, got " + length + " and " + stride);
    }
    List<TrainingExample> windows = new ArrayList<>();
    for (int begin = 0; begin < tokens.length - 1; begin += stride) {
      int end = Math.min(begin + length, tokens.length);
      int[] w = Arrays.copyOfRange(tokens, begin, end);
      boolean[] mask = new boolean[w.length];
      Arrays.fill(mask, 1, mask.length, true);
      windows.add(new TrainingExample(w, mask));
      if (end == tokens.length) {
        break;
      }
    }
    return TrainingData.of(windows);
  }

  /** Windows over a text encoded with BOS at its start and no EOS. */
  public static TrainingData of(String text, Tokenizer tokenizer, int length, int stride) {
    return of(tokenizer.encode(text, true, false), length, stride);
  }
}
