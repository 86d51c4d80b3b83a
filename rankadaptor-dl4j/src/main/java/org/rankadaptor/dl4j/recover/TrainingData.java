package org.rankadaptor.dl4j.recover;

import com.google.common.collect.ImmutableList;
import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * An immutable list of {@link TrainingExample}s with what recovery does to it: a seeded train/validation
 * split, seeded shuffled micro-batches, and a fingerprint of its exact tokens and masks for provenance.
 *
 * @since 0.1.0
 */
public final class TrainingData {

  private final List<TrainingExample> examples;
  private final String fingerprint;

  private TrainingData(List<TrainingExample> examples) {
    this.examples = ImmutableList.copyOf(examples);
    Hasher h = Hashing.sha256().newHasher();
    h.putInt(this.examples.size());
    for (TrainingExample e : this.examples) {
      h.putInt(e.length());
      for (int i = 0; i < e.length(); i++) {
        h.putInt(e.tokens()[i]).putBoolean(e.lossMask()[i]);
      }
    }
    this.fingerprint = h.hash().toString();
  }

  /** Data made of these examples, in this order. */
  public static TrainingData of(List<TrainingExample> examples) {
    return new TrainingData(examples);
  }

  /** The examples, in order. */
  public List<TrainingExample> examples() {
    return examples;
  }

  /** Number of examples. */
  public int size() {
    return examples.size();
  }

  /** Number of target tokens over all examples. */
  public long targetTokens() {
    return examples.stream().mapToLong(TrainingExample::targetCount).sum();
  }

  /** SHA-256 (hex) of every example's tokens and loss mask, in order. */
  public String fingerprint() {
    return fingerprint;
  }

  /** A train/validation split. */
  public record Split(TrainingData train, TrainingData validation) {}

  /**
   * Splits off {@code validationSize} examples drawn by {@code seed}; both parts keep the original order.
   *
   * @param validationSize between 0 and {@code size()}
   */
  public Split split(int validationSize, long seed) {
    if (validationSize < 0 || validationSize > examples.size()) {
      throw new IllegalArgumentException(
          "validation size " + validationSize + " outside [0, " + examples.size() + "]");
    }
    List<Integer> order = new ArrayList<>(examples.size());
    for (int i = 0; i < examples.size(); i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(seed));
    boolean[] isValidation = new boolean[examples.size()];
    for (int i = 0; i < validationSize; i++) {
      isValidation[order.get(i)] = true;
    }
    List<TrainingExample> train = new ArrayList<>();
    List<TrainingExample> validation = new ArrayList<>();
    for (int i = 0; i < examples.size(); i++) {
      (isValidation[i] ? validation : train).add(examples.get(i));
    }
    return new Split(new TrainingData(train), new TrainingData(validation));
  }

  /**
   * One epoch of micro-batches: the examples in an order drawn by {@code seed} and {@code epoch}, cut
   * into batches of {@code batchSize} (the last may be smaller), each padded on the right with
   * {@code padId} to its longest example.
   */
  List<MicroBatch> microBatches(int batchSize, int padId, long seed, int epoch) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    List<Integer> order = new ArrayList<>(examples.size());
    for (int i = 0; i < examples.size(); i++) {
      order.add(i);
    }
    // Each epoch gets its own order, reproducible from the run's seed alone.
    Collections.shuffle(order, new Random(seed ^ (0x9E3779B97F4A7C15L * (epoch + 1L))));
    List<MicroBatch> batches = new ArrayList<>();
    for (int from = 0; from < order.size(); from += batchSize) {
      batches.add(batch(order.subList(from, Math.min(order.size(), from + batchSize)), padId));
    }
    return batches;
  }

  /**
   * The examples in their order, cut into padded batches of {@code batchSize} (the last may be smaller):
   * for validation, where order does not matter and reproducibility does.
   */
  List<MicroBatch> microBatchesInOrder(int batchSize, int padId) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    List<MicroBatch> batches = new ArrayList<>();
    for (int from = 0; from < examples.size(); from += batchSize) {
      List<Integer> rows = new ArrayList<>();
      for (int i = from; i < Math.min(examples.size(), from + batchSize); i++) {
        rows.add(i);
      }
      batches.add(batch(rows, padId));
    }
    return batches;
  }

  /** The examples at these indices as one padded batch, in this order. */
  private MicroBatch batch(List<Integer> indices, int padId) {
    int t = 0;
    for (int i : indices) {
      t = Math.max(t, examples.get(i).length());
    }
    int b = indices.size();
    int[][] tokens = new int[b][t];
    float[][] loss = new float[b][t];
    float[][] attention = new float[b][t];
    int[] rows = new int[b];
    for (int r = 0; r < b; r++) {
      TrainingExample e = examples.get(indices.get(r));
      rows[r] = indices.get(r);
      Arrays.fill(tokens[r], padId);
      System.arraycopy(e.tokens(), 0, tokens[r], 0, e.length());
      for (int j = 0; j < e.length(); j++) {
        loss[r][j] = e.lossMask()[j] ? 1f : 0f;
        attention[r][j] = 1f;
      }
    }
    return new MicroBatch(tokens, loss, attention, rows);
  }
}
