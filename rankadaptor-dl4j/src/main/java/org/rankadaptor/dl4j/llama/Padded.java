package org.rankadaptor.dl4j.llama;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Sequences padded on the right into one (batch, T) id matrix, T the longest sequence; row {@code b * t +
 * i} of every (rows, ...) activation is position {@code i} of sequence {@code b}.
 */
record Padded(int batch, int t, int[] ids, int[] lengths) {

  int rows() {
    return batch * t;
  }

  /**
   * Pads {@code sequences} after checking them against the model.
   *
   * @throws IllegalArgumentException naming the sequence and position of an empty sequence, a sequence
   *     longer than maxSeqLen or a token outside the vocabulary
   */
  static Padded of(int[][] sequences, LlamaConfig config) {
    int t = 0;
    for (int[] s : sequences) {
      t = Math.max(t, s.length);
    }
    if (t > config.maxSeqLen()) {
      throw new IllegalArgumentException(
          "sequence of " + t + " tokens exceeds maxSeqLen " + config.maxSeqLen());
    }
    int[] ids = new int[sequences.length * t];
    int[] lengths = new int[sequences.length];
    for (int b = 0; b < sequences.length; b++) {
      if (sequences[b].length == 0) {
        throw new IllegalArgumentException("sequence " + b + " is empty");
      }
      for (int i = 0; i < sequences[b].length; i++) {
        int id = sequences[b][i];
        if (id < 0 || id >= config.vocabSize()) {
          throw new IllegalArgumentException(
              "token id " + id + " at sequence " + b + " position " + i + " outside vocabulary of "
                  + config.vocabSize());
        }
        ids[b * t + i] = id;
      }
      lengths[b] = sequences[b].length;
    }
    return new Padded(sequences.length, t, ids, lengths);
  }

  /** Target of row (b, t): token t+1 when it exists and is masked in, else -1. */
  int[] rowTargets(LlamaBatch source) {
    if (source.targetCount() == 0) {
      throw new IllegalArgumentException("the batch has no target tokens");
    }
    int[] targets = new int[rows()];
    Arrays.fill(targets, -1);
    for (int b = 0; b < batch; b++) {
      int[] seq = source.sequences()[b];
      for (int i = 0; i + 1 < seq.length; i++) {
        if (source.targetMask()[b][i + 1]) {
          targets[b * t + i] = seq[i + 1];
        }
      }
    }
    return targets;
  }

  /** The rows that have a target, in order. */
  static int[] targetRows(int[] rowTargets) {
    return IntStream.range(0, rowTargets.length)
        .filter(r -> rowTargets[r] >= 0)
        .toArray();
  }
}
