package org.rankadaptor.examples.pretrain;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import java.util.stream.Stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.rankadaptor.Seeds;
import org.rankadaptor.dl4j.io.SafetensorsFile;
import org.rankadaptor.dl4j.io.SafetensorsSource;
import org.rankadaptor.dl4j.llama.LayerWeights;
import org.rankadaptor.dl4j.llama.LlamaBatch;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LlamaWeights;
import org.rankadaptor.dl4j.llama.WeightGradients;
import org.rankadaptor.dl4j.llama.Workspaces;
import org.rankadaptor.dl4j.recover.AdamW;
import org.rankadaptor.dl4j.recover.LearningRateSchedule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pretraining of the examples' own models, and their cache: full-weight gradients with AdamW on random
 * windows of a token stream (warmup then cosine decay), and a Hugging Face folder per model named by the
 * fingerprint of everything that made it, so that a later run loads the model instead of training it.
 */
public final class Pretraining {

  private static final Logger LOG = LoggerFactory.getLogger(Pretraining.class);

  /** Metadata key of the weights file that holds the fingerprint. */
  public static final String FINGERPRINT_KEY = "rankadaptor.pretraining.fingerprint";

  /**
   * How a model is pretrained.
   *
   * @param seed of the order of the windows
   * @param seqLen tokens per window
   * @param steps optimiser steps
   * @param batch windows per step
   * @param learningRate AdamW's peak rate: warmup over the first 5 % of the steps, then cosine decay
   */
  public record Schedule(long seed, int seqLen, int steps, int batch, double learningRate) {

    /** Validates the schedule. */
    public Schedule {
      if (seqLen < 2 || steps < 1 || batch < 1 || !(learningRate > 0) || Double.isInfinite(learningRate)) {
        throw new IllegalArgumentException("invalid pretraining schedule: " + this);
      }
    }
  }

  private Pretraining() {}

  /**
   * Pretrains {@code model} in place on windows of {@code tokens}.
   *
   * @param progress told the number of each finished step (for a progress line); may be null
   * @return the mean training loss of the last tenth of the steps
   */
  public static double pretrain(LlamaModel model, int[] tokens, Schedule s, IntConsumer progress) {
    if (tokens.length <= s.seqLen()) {
      throw new IllegalArgumentException("pretraining text has " + tokens.length + " tokens, not more than one window of "
          + s.seqLen());
    }
    boolean tied = model.config().tiedClassifier();
    AdamW optimiser = new AdamW(tensors(model.weights(), tied), 0.0);
    LearningRateSchedule schedule = new LearningRateSchedule(
        s.learningRate(), Math.max(1, s.steps() / 20), s.steps(), LearningRateSchedule.Decay.COSINE);
    SplittableRandom random = new SplittableRandom(Seeds.mix(s.seed(), 2));
    int tail = Math.max(1, s.steps() / 10);
    double tailLoss = 0;
    long start = System.nanoTime();
    String workspaceId = "rankadaptor-pretraining-" + System.identityHashCode(model);
    for (int step = 0; step < s.steps(); step++) {
      int[][] windows = new int[s.batch()][];
      for (int b = 0; b < windows.length; b++) {
        int from = random.nextInt(tokens.length - s.seqLen() + 1);
        windows[b] = Arrays.copyOfRange(tokens, from, from + s.seqLen());
      }
      double loss;
      // A step's activations and gradients live in a workspace that every later step reuses; the weights and
      // the optimiser's state live outside it.
      try (MemoryWorkspace ignored = Workspaces.activate(Workspaces.TRAINING_STEP, workspaceId)) {
        WeightGradients g = model.fullWeightGradients(LlamaBatch.of(windows));
        loss = g.loss();
        if (!Double.isFinite(loss)) {
          throw new IllegalStateException("pretraining diverged at step " + (step + 1) + " (loss " + loss
              + "); lower the learning rate " + s.learningRate());
        }
        optimiser.step(tensors(g.gradients(), tied), schedule.rate(step));
      }
      if (step >= s.steps() - tail) {
        tailLoss += loss / tail;
      }
      if (step % 25 == 0 || step == s.steps() - 1) {
        double seconds = (System.nanoTime() - start) / 1e9;
        LOG.info(String.format(Locale.ROOT, "pretraining step %d/%d, loss %.4f, %.0f tokens/s", step + 1, s.steps(),
            loss, (step + 1) * (double) s.batch() * s.seqLen() / Math.max(seconds, 1e-9)));
      }
      if (progress != null) {
        progress.accept(step + 1);
      }
    }
    Workspaces.destroy(Workspaces.TRAINING_STEP, workspaceId);
    return tailLoss;
  }

  /** The model's parameters: every tensor that pretraining trains, a tied classifier counted once. */
  public static long parameterCount(LlamaModel model) {
    return tensors(model.weights(), model.config().tiedClassifier()).stream().mapToLong(INDArray::length).sum();
  }

  /** Every trainable tensor in a fixed order; a tied classifier is the embedding and is listed once. */
  static List<INDArray> tensors(LlamaWeights w, boolean tiedClassifier) {
    List<INDArray> out = new ArrayList<>();
    out.add(w.tokenEmbedding());
    if (!tiedClassifier) {
      out.add(w.classifier());
    }
    out.add(w.finalNorm());
    for (LayerWeights l : w.layers()) {
      out.addAll(List.of(l.attnNorm(), l.wq(), l.wk(), l.wv(), l.wo(), l.ffnNorm(), l.gate(), l.up(), l.down()));
    }
    return out;
  }

  /** The cached model in {@code folder} when its weights carry this fingerprint; empty when absent, other or unreadable. */
  public static Optional<LlamaModel> loadCached(Path folder, String fingerprint) {
    Path weights = folder.resolve(SafetensorsSource.SINGLE_FILE_NAME);
    if (!Files.isRegularFile(weights)) {
      return Optional.empty();
    }
    try {
      String stored;
      try (SafetensorsFile file = SafetensorsFile.open(weights)) {
        stored = file.metadata().get(FINGERPRINT_KEY);
      }
      if (!fingerprint.equals(stored)) {
        LOG.warn("{} holds a model of fingerprint {}, not {}; training again", folder, stored, fingerprint);
        return Optional.empty();
      }
      return Optional.of(LlamaCheckpoints.load(folder, DataType.FLOAT));
    } catch (IOException e) {
      LOG.warn("the cached model in {} cannot be read ({}); training again", folder, e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Saves the model with its fingerprint and provenance beside {@code folder}, then moves it in place, so
   * that an interrupted run leaves no half model.
   */
  public static void save(LlamaModel model, Path folder, String fingerprint, Map<String, String> provenance)
      throws IOException {
    Files.createDirectories(folder.toAbsolutePath().getParent());
    Path partial = Files.createTempDirectory(folder.toAbsolutePath().getParent(), folder.getFileName() + ".partial-");
    Map<String, String> metadata = new java.util.TreeMap<>(provenance);
    metadata.put(FINGERPRINT_KEY, fingerprint);
    LlamaCheckpoints.save(model, partial, metadata);
    if (Files.exists(folder)) {
      deleteRecursively(folder);
    }
    Files.move(partial, folder, StandardCopyOption.ATOMIC_MOVE);
    LOG.info("model saved to {}", folder);
  }

  private static void deleteRecursively(Path folder) throws IOException {
    try (Stream<Path> paths = Files.walk(folder)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
