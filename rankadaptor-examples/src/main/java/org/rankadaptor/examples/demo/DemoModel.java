package org.rankadaptor.examples.demo;

import com.google.common.hash.Hashing;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
import java.util.TreeMap;
import java.util.stream.Stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.rankadaptor.Seeds;
import org.rankadaptor.dl4j.io.SafetensorsFile;
import org.rankadaptor.dl4j.io.SafetensorsSource;
import org.rankadaptor.dl4j.llama.LayerWeights;
import org.rankadaptor.dl4j.llama.LlamaBatch;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LlamaWeights;
import org.rankadaptor.dl4j.llama.WeightGradients;
import org.rankadaptor.dl4j.recover.AdamW;
import org.rankadaptor.dl4j.recover.LearningRateSchedule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's small LLaMA-architecture model: randomly initialised from a seed, pretrained with full-weight
 * gradients and AdamW on {@link DemoCorpus#mixed general generated text}, and cached as a Hugging Face
 * folder named by the fingerprint of everything that made it, so that later runs load it instead of
 * training it again.
 */
public final class DemoModel {

  private static final Logger LOG = LoggerFactory.getLogger(DemoModel.class);

  /** Metadata key of the weights file that holds the fingerprint. */
  static final String FINGERPRINT_KEY = "rankadaptor.demo.fingerprint";

  /** Bump when the training procedure changes in a way the settings do not show. */
  private static final int RECIPE_VERSION = 1;

  /** Salt of the seed of the pretraining text, apart from the demo's other texts. */
  static final long PRETRAIN_TEXT_SALT = 11;

  /**
   * What makes the model.
   *
   * @param seed of the initial weights, the pretraining text and the order of its windows
   * @param dim residual width
   * @param layers decoder layers
   * @param heads attention heads (as many key/value heads)
   * @param hiddenDim MLP width
   * @param seqLen tokens per training window, and the model's longest sequence
   * @param steps optimiser steps of pretraining
   * @param batch windows per step
   * @param learningRate AdamW's peak rate (warmup then cosine decay)
   * @param stories generated stories of pretraining text
   */
  public record Settings(
      long seed, int dim, int layers, int heads, int hiddenDim, int seqLen, int steps, int batch,
      double learningRate, int stories) {

    /** Validates the settings. */
    public Settings {
      if (dim < 1 || layers < 1 || heads < 1 || dim % heads != 0 || hiddenDim < 1 || seqLen < 2 || steps < 1
          || batch < 1 || !(learningRate > 0) || stories < 1) {
        throw new IllegalArgumentException("invalid demo model settings: " + this);
      }
    }

    /** The demo's default: dim 64, 4 layers of 4 heads, MLP 176, windows of 64 tokens. */
    public static Settings defaults(long seed) {
      return new Settings(seed, 64, 4, 4, 176, 64, 300, 16, 3e-3, 4000);
    }

    /** A copy with another number of pretraining steps. */
    public Settings withSteps(int value) {
      return new Settings(seed, dim, layers, heads, hiddenDim, seqLen, value, batch, learningRate, stories);
    }

    LlamaConfig config(int vocabSize) {
      return LlamaConfig.uniform(dim, layers, heads, heads, hiddenDim, vocabSize, seqLen, true);
    }
  }

  /**
   * A model ready for the demo.
   *
   * @param model the pretrained model
   * @param folder its cache folder
   * @param fingerprint sha256 of the settings, recipe and pretraining text
   * @param pretrainedNow true when it was trained in this call, false when loaded from the cache
   * @param finalLoss mean training loss of the last steps; NaN when loaded
   */
  public record Prepared(LlamaModel model, Path folder, String fingerprint, boolean pretrainedNow,
      double finalLoss) {}

  private DemoModel() {}

  /**
   * The model of these settings: loaded from {@code cacheRoot/demo-<fingerprint>} when a model with that
   * fingerprint is there, otherwise pretrained and saved there.
   */
  public static Prepared obtain(Path cacheRoot, Settings settings, WordTokenizer tokenizer) throws IOException {
    String text = DemoCorpus.mixed(settings.stories(), Seeds.mix(settings.seed(), PRETRAIN_TEXT_SALT));
    int[] tokens = tokenizer.encode(text, true, false);
    String fingerprint = fingerprint(settings, tokenizer, tokens);
    Path folder = cacheRoot.resolve("demo-" + fingerprint.substring(0, 16));
    Optional<LlamaModel> cached = loadCached(folder, fingerprint);
    if (cached.isPresent()) {
      LOG.info("reusing the cached demo model in {}", folder);
      return new Prepared(cached.get(), folder, fingerprint, false, Double.NaN);
    }
    LlamaConfig config = settings.config(tokenizer.vocabSize());
    LlamaModel model = LlamaModel.randomInit(config, settings.seed(), DataType.FLOAT);
    // randomInit draws embeddings with sd 1; with a tied classifier that makes the first logits about
    // sqrt(dim) wide and the first steps spend themselves shrinking them. Start at sd 0.1 instead.
    model.weights().tokenEmbedding().muli(0.1);
    double loss = pretrain(model, tokens, settings);
    Map<String, String> provenance = new TreeMap<>();
    provenance.put(FINGERPRINT_KEY, fingerprint);
    provenance.put("rankadaptor.demo.settings", settings.toString());
    provenance.put("rankadaptor.demo.final_loss", Double.toString(loss));
    save(model, folder, provenance);
    return new Prepared(model, folder, fingerprint, true, loss);
  }

  /** Pretrains in place; returns the mean loss of the last tenth of the steps. */
  static double pretrain(LlamaModel model, int[] tokens, Settings s) {
    if (tokens.length <= s.seqLen()) {
      throw new IllegalArgumentException("pretraining text has " + tokens.length + " tokens, not more than one window of "
          + s.seqLen());
    }
    List<INDArray> parameters = tensors(model.weights(), model.config().tiedClassifier());
    AdamW optimiser = new AdamW(parameters, 0.0);
    LearningRateSchedule schedule =
        new LearningRateSchedule(s.learningRate(), Math.max(1, s.steps() / 20), s.steps(), LearningRateSchedule.Decay.COSINE);
    SplittableRandom random = new SplittableRandom(Seeds.mix(s.seed(), 2));
    int tail = Math.max(1, s.steps() / 10);
    double tailLoss = 0;
    long start = System.nanoTime();
    for (int step = 0; step < s.steps(); step++) {
      int[][] windows = new int[s.batch()][];
      for (int b = 0; b < windows.length; b++) {
        int from = random.nextInt(tokens.length - s.seqLen() + 1);
        windows[b] = Arrays.copyOfRange(tokens, from, from + s.seqLen());
      }
      WeightGradients g = model.fullWeightGradients(LlamaBatch.of(windows));
      optimiser.step(tensors(g.gradients(), model.config().tiedClassifier()), schedule.rate(step));
      if (step >= s.steps() - tail) {
        tailLoss += g.loss() / tail;
      }
      if (step % 25 == 0 || step == s.steps() - 1) {
        double seconds = (System.nanoTime() - start) / 1e9;
        LOG.info(String.format(Locale.ROOT, "pretraining step %d/%d, loss %.4f, %.0f tokens/s", step + 1, s.steps(),
            g.loss(), (step + 1) * (double) s.batch() * s.seqLen() / Math.max(seconds, 1e-9)));
      }
    }
    return tailLoss;
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

  static String fingerprint(Settings settings, WordTokenizer tokenizer, int[] tokens) {
    var h = Hashing.sha256().newHasher()
        .putInt(RECIPE_VERSION)
        .putString(settings.toString(), StandardCharsets.UTF_8)
        .putInt(tokenizer.vocabSize());
    for (int t : tokens) {
      h.putInt(t);
    }
    return h.hash().toString();
  }

  /** The cached model when its weights carry this fingerprint; empty when absent, other or unreadable. */
  private static Optional<LlamaModel> loadCached(Path folder, String fingerprint) {
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
      LOG.warn("the cached demo model in {} cannot be read ({}); training again", folder, e.getMessage());
      return Optional.empty();
    }
  }

  /** Saves beside the folder, then moves it in place, so that an interrupted run leaves no half model. */
  private static void save(LlamaModel model, Path folder, Map<String, String> provenance) throws IOException {
    Files.createDirectories(folder.getParent());
    Path partial = Files.createTempDirectory(folder.getParent(), folder.getFileName() + ".partial-");
    LlamaCheckpoints.save(model, partial, provenance);
    if (Files.exists(folder)) {
      deleteRecursively(folder);
    }
    Files.move(partial, folder, StandardCopyOption.ATOMIC_MOVE);
    LOG.info("demo model saved to {}", folder);
  }

  private static void deleteRecursively(Path folder) throws IOException {
    try (Stream<Path> paths = Files.walk(folder)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

}
