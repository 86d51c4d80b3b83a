package org.rankadaptor.examples.demo;

import com.google.common.hash.Hashing;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.rankadaptor.Seeds;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.examples.pretrain.Pretraining;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's small LLaMA-architecture model: randomly initialised from a seed, pretrained by
 * {@link Pretraining} on {@link DemoCorpus#mixed general generated text}, and cached by the fingerprint of
 * everything that made it, so that later runs load it instead of training it again.
 */
public final class DemoModel {

  private static final Logger LOG = LoggerFactory.getLogger(DemoModel.class);

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

    Pretraining.Schedule schedule() {
      return new Pretraining.Schedule(seed, seqLen, steps, batch, learningRate);
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
    Optional<LlamaModel> cached = Pretraining.loadCached(folder, fingerprint);
    if (cached.isPresent()) {
      LOG.info("reusing the cached demo model in {}", folder);
      return new Prepared(cached.get(), folder, fingerprint, false, Double.NaN);
    }
    LlamaConfig config = settings.config(tokenizer.vocabSize());
    LlamaModel model = LlamaModel.randomInit(config, settings.seed(), DataType.FLOAT);
    // randomInit draws embeddings with sd 1; with a tied classifier that makes the first logits about
    // sqrt(dim) wide and the first steps spend themselves shrinking them. Start at sd 0.1 instead.
    model.weights().tokenEmbedding().muli(0.1);
    double loss = Pretraining.pretrain(model, tokens, settings.schedule(), null);
    Map<String, String> provenance = new TreeMap<>();
    provenance.put("rankadaptor.demo.settings", settings.toString());
    provenance.put("rankadaptor.demo.final_loss", Double.toString(loss));
    Pretraining.save(model, folder, fingerprint, provenance);
    return new Prepared(model, folder, fingerprint, true, loss);
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
}
