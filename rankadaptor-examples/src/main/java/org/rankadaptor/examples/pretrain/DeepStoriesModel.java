package org.rankadaptor.examples.pretrain;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.nd4j.linalg.api.buffer.DataType;
import org.rankadaptor.Seeds;
import org.rankadaptor.dl4j.io.Tokenizer;
import org.rankadaptor.dl4j.llama.GenerationSettings;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LlamaGenerator;
import org.rankadaptor.dl4j.llama.LlamaModel;

/**
 * The deeper test bed's model: a LLaMA-architecture model with grouped-query attention and more layers
 * than {@code stories260K}, pretrained by the project on stories sampled from {@code stories260K} (the
 * teacher: its own distribution, temperature 1, no nucleus cut) in the teacher's {@code tok512}
 * vocabulary. Made so that per-layer rank allocation has room to matter: with the first and the last two
 * layers kept, width pruning leaves nine searched layers at the default depth, a space of 6^9 rank vectors
 * that no search can enumerate.
 *
 * <p>Cached by the fingerprint of the settings, the recipe, the teacher's and the tokenizer's bytes: a
 * later run loads the model instead of training it again. The sampled corpus is cached on its own, so a
 * pretraining that is interrupted does not sample it again.
 */
public final class DeepStoriesModel {

  /** Bump when the recipe changes in a way the settings do not show. */
  private static final int RECIPE_VERSION = 1;

  private static final long CORPUS_SALT = 0x44_45_45_50L;

  /** Stories sampled side by side: one pass of the teacher per token serves them all. */
  private static final int GENERATION_BATCH = 128;

  /**
   * What makes the model.
   *
   * @param seed of the initial weights, the sampled stories and the order of the windows
   * @param dim residual width
   * @param layers decoder layers
   * @param heads query heads
   * @param kvHeads key/value heads (grouped-query attention when fewer than {@code heads})
   * @param hiddenDim MLP width
   * @param seqLen tokens per training window, and the model's longest sequence
   * @param steps optimiser steps of pretraining
   * @param batch windows per step
   * @param learningRate AdamW's peak rate (warmup then cosine decay)
   * @param stories stories sampled from the teacher as pretraining text
   */
  public record Settings(
      long seed, int dim, int layers, int heads, int kvHeads, int hiddenDim, int seqLen, int steps, int batch,
      double learningRate, int stories) {

    /** Validates the settings. */
    public Settings {
      if (dim < 1 || layers < 4 || heads < 1 || dim % heads != 0 || kvHeads < 1 || heads % kvHeads != 0
          || hiddenDim < 1 || seqLen < 2 || steps < 1 || batch < 1 || !(learningRate > 0) || stories < 1) {
        throw new IllegalArgumentException("invalid deep model settings (at least 4 layers, heads a multiple of "
            + "kvHeads, dim a multiple of heads): " + this);
      }
    }

    /**
     * The default: 12 layers of width 64 with 8 query and 4 key/value heads and an MLP of 172 (the
     * teacher's layer shape), windows of 256 tokens, 900 steps of 16 windows at 2e-3, on 4,000 stories.
     */
    public static Settings defaults(long seed) {
      return new Settings(seed, 64, 12, 8, 4, 172, 256, 900, 16, 2e-3, 4000);
    }

    /** A copy with other layers, steps and stories (smaller models for tests). */
    public Settings with(int newLayers, int newSteps, int newStories) {
      return new Settings(seed, dim, newLayers, heads, kvHeads, hiddenDim, seqLen, newSteps, batch, learningRate,
          newStories);
    }

    LlamaConfig config(int vocabSize) {
      return LlamaConfig.uniform(dim, layers, heads, kvHeads, hiddenDim, vocabSize, seqLen, true);
    }

    Pretraining.Schedule schedule() {
      return new Pretraining.Schedule(seed, seqLen, steps, batch, learningRate);
    }
  }

  /**
   * A model ready for the test bed.
   *
   * @param model the pretrained model
   * @param folder its cache folder
   * @param fingerprint sha256 of the settings, recipe, teacher and tokenizer
   * @param pretrainedNow true when it was trained in this call, false when loaded from the cache
   * @param finalLoss mean training loss of the last tenth of the steps; NaN when loaded
   * @param corpusTokens tokens of the pretraining text; 0 when loaded
   */
  public record Prepared(LlamaModel model, Path folder, String fingerprint, boolean pretrainedNow, double finalLoss,
      int corpusTokens) {}

  private DeepStoriesModel() {}

  /**
   * The model of these settings: loaded from {@code cacheRoot/deep-<fingerprint>} when a model with that
   * fingerprint is there, otherwise pretrained on stories sampled from {@code teacher} and saved there.
   *
   * @param teacherBytes fingerprint of the teacher's file (its sha256), so that another teacher gives
   *     another model
   * @param status told what is happening (sampling, pretraining), for a console
   */
  public static Prepared obtain(Path cacheRoot, Settings settings, LlamaModel teacher, String teacherBytes,
      Tokenizer tokenizer, Consumer<String> status) throws IOException {
    String fingerprint = fingerprint(settings, teacherBytes, tokenizer);
    Path folder = cacheRoot.resolve("deep-" + fingerprint.substring(0, 16));
    Optional<LlamaModel> cached = Pretraining.loadCached(folder, fingerprint);
    if (cached.isPresent()) {
      status.accept("reusing the cached deep model in " + folder);
      return new Prepared(cached.get(), folder, fingerprint, false, Double.NaN, 0);
    }
    // The corpus depends on the teacher, the tokenizer, the seed and the number of stories only: other
    // settings of the same corpus reuse it.
    String corpusKey = Hashing.sha256().hashString(teacherBytes + "|" + fingerprint(Settings.defaults(settings.seed())
        .with(4, 1, settings.stories()), teacherBytes, tokenizer), StandardCharsets.UTF_8).toString();
    int[] tokens = corpus(cacheRoot.resolve("deep-corpus-" + corpusKey.substring(0, 16) + ".bin"), settings,
        teacher, tokenizer, status);
    if (teacher.config().vocabSize() != tokenizer.vocabSize()) {
      throw new IllegalArgumentException("the teacher has " + teacher.config().vocabSize()
          + " tokens, the tokenizer " + tokenizer.vocabSize());
    }
    LlamaModel model = LlamaModel.randomInit(settings.config(tokenizer.vocabSize()), settings.seed(), DataType.FLOAT);
    // randomInit draws embeddings with sd 1; with a tied classifier the first logits would be about
    // sqrt(dim) wide and the first steps would spend themselves shrinking them.
    model.weights().tokenEmbedding().muli(0.1);
    status.accept(String.format(java.util.Locale.ROOT, "pretraining a %d-layer model on %,d tokens (%d steps)",
        settings.layers(), tokens.length, settings.steps()));
    int every = Math.max(1, settings.steps() / 20);
    double loss = Pretraining.pretrain(model, tokens, settings.schedule(), step -> {
      if (step % every == 0 || step == settings.steps()) {
        status.accept("pretraining step " + step + "/" + settings.steps());
      }
    });
    Map<String, String> provenance = new TreeMap<>();
    provenance.put("rankadaptor.deep.settings", settings.toString());
    provenance.put("rankadaptor.deep.teacher_sha256", teacherBytes);
    provenance.put("rankadaptor.deep.corpus_tokens", Integer.toString(tokens.length));
    provenance.put("rankadaptor.deep.final_loss", Double.toString(loss));
    Pretraining.save(model, folder, fingerprint, provenance);
    return new Prepared(model, folder, fingerprint, true, loss, tokens.length);
  }

  /**
   * The pretraining text as token ids: each story after a BOS token, as in llama2.c's data. Read from
   * {@code file} when an earlier run sampled it, otherwise sampled and written there.
   */
  static int[] corpus(Path file, Settings settings, LlamaModel teacher, Tokenizer tokenizer, Consumer<String> status)
      throws IOException {
    if (Files.isRegularFile(file)) {
      try (InputStream in = Files.newInputStream(file); DataInputStream data = new DataInputStream(in)) {
        int n = data.readInt();
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
          tokens[i] = data.readInt();
        }
        status.accept("reusing the " + settings.stories() + " stories sampled earlier (" + file + ")");
        return tokens;
      } catch (IOException e) {
        status.accept("the sampled stories in " + file + " cannot be read (" + e.getMessage() + "); sampling again");
      }
    }
    List<int[]> stories = new ArrayList<>();
    int bos = 1;
    long total = 0;
    for (int from = 0; from < settings.stories(); from += GENERATION_BATCH) {
      int to = Math.min(settings.stories(), from + GENERATION_BATCH);
      status.accept("sampling stories " + (from + 1) + ".." + to + " of " + settings.stories() + " from the teacher");
      List<GenerationSettings> batch = new ArrayList<>();
      for (int i = from; i < to; i++) {
        // As long as the teacher can write: its stories are cut only by its context.
        batch.add(new GenerationSettings(teacher.config().maxSeqLen() - 1, 1.0, 1.0,
            Seeds.mix(Seeds.mix(settings.seed(), CORPUS_SALT), i)));
      }
      for (int[] story : new LlamaGenerator(teacher).generate(new int[] {bos}, batch, null)) {
        stories.add(story);
        total += story.length + 1;
      }
    }
    int[] tokens = new int[Math.toIntExact(total)];
    int at = 0;
    for (int[] story : stories) {
      tokens[at++] = bos;
      System.arraycopy(story, 0, tokens, at, story.length);
      at += story.length;
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path partial = file.resolveSibling(file.getFileName() + ".partial");
    try (OutputStream out = Files.newOutputStream(partial); DataOutputStream data = new DataOutputStream(
        new java.io.BufferedOutputStream(out))) {
      data.writeInt(tokens.length);
      for (int t : tokens) {
        data.writeInt(t);
      }
    }
    Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return tokens;
  }

  static String fingerprint(Settings settings, String teacherBytes, Tokenizer tokenizer) {
    Hasher h = Hashing.sha256().newHasher()
        .putInt(RECIPE_VERSION)
        .putString(settings.toString(), StandardCharsets.UTF_8)
        .putString(teacherBytes, StandardCharsets.UTF_8)
        .putInt(tokenizer.vocabSize());
    // The tokenizer's pieces, so that another vocabulary of the same size gives another model.
    for (int id = 0; id < tokenizer.vocabSize(); id++) {
      h.putString(tokenizer.decode(new int[] {id}), StandardCharsets.UTF_8);
    }
    return h.hash().toString();
  }
}
