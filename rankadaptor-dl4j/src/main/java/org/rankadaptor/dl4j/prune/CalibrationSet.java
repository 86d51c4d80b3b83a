package org.rankadaptor.dl4j.prune;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.rankadaptor.dl4j.io.Tokenizer;
import org.rankadaptor.dl4j.llama.LlamaBatch;

/**
 * Token windows on which importance is estimated: LLM-Pruner uses 10 (or 50) windows of 64 tokens,
 * Shortened LLaMA 10 windows of 128 tokens. Immutable; the arrays are copied in and out.
 *
 * @since 0.1.0
 */
public final class CalibrationSet {

  /** Default number of samples (LLM-Pruner and Shortened LLaMA). */
  public static final int DEFAULT_SAMPLES = 10;

  /** LLM-Pruner's sample length in tokens. */
  public static final int WIDTH_SAMPLE_LENGTH = 64;

  /** Shortened LLaMA's sample length in tokens. */
  public static final int DEPTH_SAMPLE_LENGTH = 128;

  private final int[][] samples;
  private final String fingerprint;

  private CalibrationSet(int[][] samples) {
    this.samples = samples;
    Hasher hasher = Hashing.sha256().newHasher();
    hasher.putInt(samples.length);
    for (int[] sample : samples) {
      hasher.putInt(sample.length);
      for (int id : sample) {
        hasher.putInt(id);
      }
    }
    this.fingerprint = hasher.hash().toString();
  }

  /**
   * Token windows of one text, chosen by a seeded generator, to be configured and built:
   * {@code CalibrationSet.builder(text, tokenizer).samples(10).length(64).seed(42).build()}. The text is
   * encoded once (with BOS, as a document starts) and each sample starts at a uniformly drawn position,
   * so samples may overlap when the text is short.
   */
  public static Builder builder(String text, Tokenizer tokenizer) {
    return new Builder(text, tokenizer);
  }

  /**
   * How to draw a calibration set from a text; named settings, so that the counts cannot be swapped.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    private final String text;
    private final Tokenizer tokenizer;
    private int samples = DEFAULT_SAMPLES;
    private int length = WIDTH_SAMPLE_LENGTH;
    private long seed;
    private boolean seeded;

    private Builder(String text, Tokenizer tokenizer) {
      this.text = java.util.Objects.requireNonNull(text, "text");
      this.tokenizer = java.util.Objects.requireNonNull(tokenizer, "tokenizer");
    }

    /** Number of samples (default {@value CalibrationSet#DEFAULT_SAMPLES}). */
    public Builder samples(int count) {
      this.samples = count;
      return this;
    }

    /** Tokens per sample (default {@value CalibrationSet#WIDTH_SAMPLE_LENGTH}). */
    public Builder length(int tokens) {
      this.length = tokens;
      return this;
    }

    /** Chooses the windows. Required. */
    public Builder seed(long value) {
      this.seed = value;
      this.seeded = true;
      return this;
    }

    /**
     * The calibration set.
     *
     * @throws IllegalStateException when no seed was given
     * @throws PruningInputException when the count or length is out of range, or the text encodes to
     *     fewer than {@code length} tokens
     */
    public CalibrationSet build() {
      if (!seeded) {
        throw new IllegalStateException("a calibration set needs an explicit seed: call seed(long)");
      }
      return fromText(text, tokenizer, samples, length, seed);
    }
  }

  /**
   * Token windows of one text, chosen by a seeded generator: the text is encoded once (with BOS, as a
   * document starts) and each sample starts at a uniformly drawn position, so samples may overlap when
   * the text is short.
   *
   * @param count number of samples, at least 1
   * @param length tokens per sample, at least 2
   * @param seed chooses the windows
   * @throws PruningInputException when count or length is out of range, or the text encodes to fewer
   *     than {@code length} tokens
   */
  private static CalibrationSet fromText(
      String text, Tokenizer tokenizer, int count, int length, long seed) {
    if (count < 1) {
      throw new PruningInputException("calibration sample count must be at least 1, got " + count);
    }
    if (length < 2) {
      throw new PruningInputException("calibration sample length must be at least 2, got " + length);
    }
    int[] tokens = tokenizer.encode(text, true, false);
    if (tokens.length < length) {
      throw new PruningInputException(
          "calibration text encodes to " + tokens.length + " tokens, fewer than one sample of " + length);
    }
    SplittableRandom random = new SplittableRandom(seed);
    int[][] samples = new int[count][];
    for (int i = 0; i < count; i++) {
      int start = random.nextInt(tokens.length - length + 1);
      samples[i] = Arrays.copyOfRange(tokens, start, start + length);
    }
    return new CalibrationSet(samples);
  }

  /**
   * Samples given as token ids.
   *
   * @throws PruningInputException when there are no samples or one has fewer than 2 tokens
   */
  public static CalibrationSet of(int[][] samples) {
    if (samples == null || samples.length == 0) {
      throw new PruningInputException("calibration needs at least one sample");
    }
    int[][] copy = new int[samples.length][];
    for (int i = 0; i < samples.length; i++) {
      if (samples[i] == null || samples[i].length < 2) {
        throw new PruningInputException(
            "calibration sample " + i + " has fewer than 2 tokens");
      }
      copy[i] = samples[i].clone();
    }
    return new CalibrationSet(copy);
  }

  /** Number of samples. */
  public int size() {
    return samples.length;
  }

  /** Token ids of sample {@code i}, a copy. */
  public int[] sample(int i) {
    return samples[i].clone();
  }

  /** Length of the longest sample. */
  public int maxLength() {
    return Arrays.stream(samples).mapToInt(s -> s.length).max().orElseThrow();
  }

  /** SHA-256 of the samples' token ids, recorded in reports as the calibration's provenance. */
  public String fingerprint() {
    return fingerprint;
  }

  /** All samples as one batch, every token after the first a target. */
  LlamaBatch batch() {
    return LlamaBatch.of(copy());
  }

  /** Sample {@code i} alone as a batch. */
  LlamaBatch batch(int i) {
    return LlamaBatch.of(new int[][] {samples[i].clone()});
  }

  private int[][] copy() {
    int[][] out = new int[samples.length][];
    for (int i = 0; i < samples.length; i++) {
      out[i] = samples[i].clone();
    }
    return out;
  }

  /** What a report records of the calibration. */
  CalibrationSummary summary() {
    return new CalibrationSummary(samples.length, maxLength(), fingerprint);
  }
}
