package org.rankadaptor.dl4j.recover;

import com.google.common.base.Stopwatch;
import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.rankadaptor.InvalidRankConfigException;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RecoveryFailedException;
import org.rankadaptor.RecoveryRunner;
import org.rankadaptor.Seeds;
import org.rankadaptor.dl4j.Nd4jRuntime;
import org.rankadaptor.dl4j.llama.LayerWeights;
import org.rankadaptor.dl4j.llama.LlamaBatch;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapter;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.llama.LoraGradients;
import org.rankadaptor.dl4j.llama.LoraTarget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovers a (pruned) model for a rank configuration by LoRA fine-tuning, as LLM-Pruner and the paper
 * do: adapters with each layer's rank (none where it is 0) on the frozen model, trained with AdamW,
 * warmup and decay, gradient accumulation and clipping, and held-out validation at intervals; the
 * state with the lowest validation loss (possibly the untrained one) is kept.
 *
 * <p>Every random choice comes from the seed passed to {@link #recover}: adapter initialisation (a
 * stream per layer and projection), the order of the training examples (the same for every rank
 * configuration, so that comparisons between configurations are paired) and the dropout masks.
 *
 * <pre>{@code
 * LoraRecoveryRunner runner = LoraRecoveryRunner.builder(prunedModel, split.train(), split.validation())
 *     .settings(RecoverySettings.paper())
 *     .build();
 * RecoveredModel recovered = runner.recover(RankConfig.uniform(32, 8), 42);
 * }</pre>
 *
 * <p>A run whose loss or gradient becomes non-finite, or whose loss exceeds {@link
 * RecoverySettings#divergenceFactor()} times the first step's, stops and throws {@link
 * RecoveryFailedException}, which a search records as a failed observation.
 */
public final class LoraRecoveryRunner implements RecoveryRunner<RecoveredModel> {

  private static final Logger LOG = LoggerFactory.getLogger(LoraRecoveryRunner.class);

  /** Any token id serves as padding: micro-batches are cut back to each example's own length. */
  private static final int PAD_ID = 0;

  /** Added to the gradient norm before dividing, as PyTorch's {@code clip_grad_norm_} does. */
  private static final double CLIP_EPSILON = 1e-6;

  /** Sees each micro-batch's loss before the runner does; lets tests inject a fault. */
  @FunctionalInterface
  interface LossTap {
    double apply(RankConfig config, int step, double loss);
  }

  private final LlamaModel model;
  private final TrainingData train;
  private final List<LlamaBatch> validationBatches;
  private final long validationTargets;
  private final String dataFingerprint;
  private final RecoverySettings settings;
  private final List<RecoveryListener> listeners;
  private final LossTap lossTap;
  private String modelHash; // computed on first use: hashing every weight takes a while

  private LoraRecoveryRunner(Builder b) {
    this.model = b.model;
    this.settings = b.settings;
    this.listeners = List.copyOf(b.listeners);
    this.lossTap = b.lossTap;
    int maxLength = Math.min(settings.cutoffLength(), model.config().maxSeqLen());
    this.train = cut(b.train, maxLength, "training");
    TrainingData validation = cut(b.validation, maxLength, "validation");
    List<LlamaBatch> batches = new ArrayList<>();
    for (MicroBatch mb : validation.microBatchesInOrder(settings.microBatchSize(), PAD_ID)) {
      batches.add(toLlamaBatch(mb));
    }
    this.validationBatches = List.copyOf(batches);
    this.validationTargets = validation.targetTokens();
    this.dataFingerprint = "train:" + train.fingerprint() + ",validation:" + validation.fingerprint();
  }

  /**
   * Starts a runner.
   *
   * @param model the frozen model to recover
   * @param train training examples, such as from {@link AlpacaData#load} or {@link TextWindows}
   * @param validation held-out examples for the validation loss; at least one with a target
   */
  public static Builder builder(LlamaModel model, TrainingData train, TrainingData validation) {
    return new Builder(model, train, validation);
  }

  /** The settings. */
  public RecoverySettings settings() {
    return settings;
  }

  /** Examples cut to {@code maxLength} tokens; those left without a target are dropped. */
  private static TrainingData cut(TrainingData data, int maxLength, String what) {
    List<TrainingExample> kept = new ArrayList<>(data.size());
    for (TrainingExample e : data.examples()) {
      TrainingExample c =
          e.length() <= maxLength
              ? e
              : new TrainingExample(
                  Arrays.copyOf(e.tokens(), maxLength), Arrays.copyOf(e.lossMask(), maxLength));
      if (c.length() >= 2 && c.targetCount() > 0) {
        kept.add(c);
      }
    }
    if (kept.isEmpty()) {
      throw new IllegalArgumentException(
          "the " + what + " data has no example with a target token (" + data.size() + " examples)");
    }
    if (kept.size() < data.size()) {
      LOG.warn("{} data: dropped {} examples left without a target at {} tokens", what,
          data.size() - kept.size(), maxLength);
    }
    return kept.size() == data.size() && kept.equals(data.examples()) ? data : TrainingData.of(kept);
  }

  /** Strips a micro-batch's padding: each row back to its own length. */
  private static LlamaBatch toLlamaBatch(MicroBatch mb) {
    int[][] sequences = new int[mb.batchSize()][];
    boolean[][] masks = new boolean[mb.batchSize()][];
    for (int r = 0; r < mb.batchSize(); r++) {
      int length = 0;
      while (length < mb.length() && mb.attentionMask()[r][length] != 0) {
        length++;
      }
      sequences[r] = Arrays.copyOf(mb.tokens()[r], length);
      masks[r] = new boolean[length];
      for (int t = 0; t < length; t++) {
        masks[r][t] = mb.lossMask()[r][t] != 0;
      }
    }
    return new LlamaBatch(sequences, masks);
  }

  @Override
  public RecoveredModel recover(RankConfig config, long seed) {
    Nd4jRuntime.ensureInitialized();
    if (config.length() != model.config().nLayers()) {
      throw new InvalidRankConfigException(
          "rank configuration " + config + " has " + config.length() + " layers; the model has "
              + model.config().nLayers());
    }
    return new Run(config, seed).execute();
  }

  /** Model weights, data and settings: a recovery with equal fingerprint and seed gives equal adapters. */
  @Override
  public String fingerprint() {
    return "model:" + modelFingerprint() + ";" + dataFingerprint + ";settings:" + settings.describe();
  }

  private synchronized String modelFingerprint() {
    if (modelHash == null) {
      Nd4jRuntime.ensureInitialized();
      modelHash = weightsHash(model);
    }
    return modelHash;
  }

  /** SHA-256 (hex) of the model's shapes and of every weight's value. */
  static String weightsHash(LlamaModel model) {
    Hasher h = Hashing.sha256().newHasher();
    h.putUnencodedChars(model.config().toString());
    List<INDArray> tensors = new ArrayList<>();
    tensors.add(model.weights().tokenEmbedding());
    for (LayerWeights w : model.weights().layers()) {
      tensors.add(w.attnNorm());
      tensors.add(w.ffnNorm());
      for (LoraTarget t : LoraTarget.values()) {
        tensors.add(w.projection(t));
      }
    }
    tensors.add(model.weights().finalNorm());
    tensors.add(model.weights().classifier());
    for (INDArray t : tensors) {
      h.putUnencodedChars(t.dataType().name() + Arrays.toString(t.shape()));
      if (t.dataType() == DataType.DOUBLE) {
        for (double v : t.dup('c').data().asDouble()) {
          h.putDouble(v);
        }
      } else {
        for (float v : t.castTo(DataType.FLOAT).dup('c').data().asFloat()) {
          h.putFloat(v);
        }
      }
    }
    return h.hash().toString();
  }


  /** The trainable tensors of some adapters, layer by layer, projection by projection, A before B. */
  static List<INDArray> parameters(LoraAdapters adapters) {
    List<INDArray> out = new ArrayList<>();
    for (int l = 0; l < adapters.nLayers(); l++) {
      for (LoraAdapter a : adapters.layer(l).values()) {
        out.add(a.a());
        out.add(a.b());
      }
    }
    return out;
  }

  /** Adapters shaped as {@code template} holding {@code values} (in {@link #parameters} order). */
  private static LoraAdapters withParameters(LoraAdapters template, List<INDArray> values) {
    List<Map<LoraTarget, LoraAdapter>> layers = new ArrayList<>();
    int i = 0;
    for (int l = 0; l < template.nLayers(); l++) {
      Map<LoraTarget, LoraAdapter> layer = new EnumMap<>(LoraTarget.class);
      for (Map.Entry<LoraTarget, LoraAdapter> e : template.layer(l).entrySet()) {
        layer.put(e.getKey(), new LoraAdapter(values.get(i), values.get(i + 1), e.getValue().scaling()));
        i += 2;
      }
      layers.add(layer);
    }
    return LoraAdapters.of(layers, template.dropout());
  }

  /** The state of one call of {@link #recover}. */
  private final class Run {
    private final RankConfig config;
    private final long seed;
    private final LoraAdapters adapters;
    private final List<INDArray> parameters;
    private final List<TrainingLog.Step> steps = new ArrayList<>();
    private final List<TrainingLog.Validation> validations = new ArrayList<>();
    private final Stopwatch total = Stopwatch.createUnstarted();
    private final Stopwatch training = Stopwatch.createUnstarted();
    private List<INDArray> best;
    private int bestStep;
    private double bestLoss = Double.POSITIVE_INFINITY;
    private long trainedTokens;

    Run(RankConfig config, long seed) {
      this.config = config;
      this.seed = seed;
      int[] ranks = config.toArray();
      double[] alphas = new double[ranks.length];
      for (int l = 0; l < ranks.length; l++) {
        alphas[l] = settings.alpha().alpha(ranks[l]);
      }
      this.adapters =
          LoraAdapters.init(model.config(), ranks, alphas, settings.targets(), settings.dropout(), seed,
              model.dataType());
      this.parameters = parameters(adapters);
    }

    RecoveredModel execute() {
      total.start();
      validate(0);
      int totalSteps = parameters.isEmpty() ? 0 : totalSteps();
      if (totalSteps > 0) {
        train(totalSteps);
        if (bestStep == 0) {
          // Kept its starting point: the adapters are those of no recovery, and a score measured on them
          // would pass for a recovery's.
          total.stop();
          String message = "recovery of " + config + " (seed " + seed + ") never improved on its starting "
              + "validation loss " + String.format(Locale.ROOT, "%.4f", validations.get(0).loss()) + " in "
              + totalSteps + " steps (last " + String.format(Locale.ROOT, "%.4f",
              validations.get(validations.size() - 1).loss()) + "); the learning rate "
              + settings.learningRate() + " may be too high";
          LOG.warn(message);
          throw new RecoveryFailedException(message);
        }
      }
      total.stop();
      double trainingSeconds = training.elapsed(TimeUnit.NANOSECONDS) / 1e9;
      TrainingLog log =
          new TrainingLog(steps, validations, bestStep, bestLoss, trainedTokens,
              trainingSeconds > 0 ? trainedTokens / trainingSeconds : 0,
              total.elapsed(TimeUnit.NANOSECONDS) / 1e9);
      LOG.info("recovered {} in {} steps ({} s, {} tokens/s): validation loss {} -> {} (kept step {})",
          config, totalSteps, String.format("%.1f", log.seconds()),
          String.format("%.0f", log.tokensPerSecond()), String.format("%.4f", log.initialValidationLoss()),
          String.format("%.4f", bestLoss), bestStep);
      Provenance provenance =
          new Provenance(seed, modelFingerprint(), dataFingerprint, settings.describe())
              .withSetting("ranks", config.format());
      return new RecoveredModel(model, withParameters(adapters, best), config, log, provenance);
    }

    private int totalSteps() {
      if (settings.maxSteps() > 0) {
        return settings.maxSteps();
      }
      int microBatches = (train.size() + settings.microBatchSize() - 1) / settings.microBatchSize();
      int perStep = settings.batchSize() / settings.microBatchSize();
      return settings.epochs() * ((microBatches + perStep - 1) / perStep);
    }

    private void train(int totalSteps) {
      LearningRateSchedule schedule =
          new LearningRateSchedule(settings.learningRate(), settings.warmupSteps(), totalSteps, settings.decay());
      AdamW optimiser = new AdamW(parameters, settings.weightDecay());
      List<INDArray> accumulated = new ArrayList<>();
      for (INDArray p : parameters) {
        accumulated.add(p.ulike().assign(0));
      }
      long dataSeed = Seeds.mix(seed, 1);
      int perStep = settings.batchSize() / settings.microBatchSize();
      int epoch = 0;
      List<MicroBatch> epochBatches = train.microBatches(settings.microBatchSize(), PAD_ID, dataSeed, epoch);
      int cursor = 0;
      double firstLoss = Double.NaN;
      for (int step = 0; step < totalSteps; step++) {
        if (cursor == epochBatches.size()) {
          epoch++;
          epochBatches = train.microBatches(settings.microBatchSize(), PAD_ID, dataSeed, epoch);
          cursor = 0;
        }
        // An epoch's last step may hold fewer micro-batches; steps never straddle two epochs.
        List<MicroBatch> group = epochBatches.subList(cursor, Math.min(epochBatches.size(), cursor + perStep));
        cursor += group.size();
        training.start();
        double loss = accumulate(group, step, accumulated);
        if (step == 0) {
          firstLoss = loss;
        }
        if (loss > settings.divergenceFactor() * firstLoss) {
          throw diverged(step, "loss " + loss + " exceeds " + settings.divergenceFactor()
              + " times the first step's " + firstLoss);
        }
        double norm = globalNorm(accumulated);
        if (!Double.isFinite(norm)) {
          throw diverged(step, "gradient norm " + norm + " at loss " + loss);
        }
        if (settings.maxGradNorm() > 0 && norm > settings.maxGradNorm()) {
          double scale = settings.maxGradNorm() / (norm + CLIP_EPSILON);
          for (INDArray g : accumulated) {
            g.muli(scale);
          }
        }
        double rate = schedule.rate(step);
        optimiser.step(accumulated, rate);
        for (INDArray g : accumulated) {
          g.assign(0);
        }
        training.stop();
        int tokens = 0;
        for (MicroBatch mb : group) {
          tokens += realTokens(mb);
        }
        trainedTokens += tokens;
        steps.add(new TrainingLog.Step(step + 1, loss, rate, norm, tokens));
        report(step + 1, totalSteps, loss, rate);
        boolean last = step + 1 == totalSteps;
        if (last || (settings.evalInterval() > 0 && (step + 1) % settings.evalInterval() == 0)) {
          validate(step + 1);
        }
      }
    }

    /** Adds the group's gradients into {@code accumulated}, weighted by target tokens; returns the mean loss. */
    private double accumulate(List<MicroBatch> group, int step, List<INDArray> accumulated) {
      long stepTargets = 0;
      for (MicroBatch mb : group) {
        stepTargets += mb.targetTokens();
      }
      double lossSum = 0;
      for (int j = 0; j < group.size(); j++) {
        LlamaBatch batch = toLlamaBatch(group.get(j));
        LoraGradients g = model.loraGradients(batch, adapters, Seeds.mix(seed, 2 + step * 1024L + j));
        double loss = lossTap == null ? g.loss() : lossTap.apply(config, step + 1, g.loss());
        if (!Double.isFinite(loss)) {
          throw diverged(step, "loss " + loss + " on micro-batch " + j);
        }
        lossSum += loss * g.targetCount();
        double weight = g.targetCount() / (double) stepTargets;
        List<INDArray> grads = parameters(g.gradients());
        for (int i = 0; i < grads.size(); i++) {
          accumulated.get(i).addi(grads.get(i).muli(weight));
        }
      }
      return lossSum / stepTargets;
    }

    private RecoveryFailedException diverged(int step, String what) {
      if (training.isRunning()) {
        training.stop();
      }
      String message = "recovery of " + config + " (seed " + seed + ") diverged at step " + (step + 1) + ": " + what;
      LOG.warn(message);
      return new RecoveryFailedException(message);
    }

    private void validate(int step) {
      double sum = 0;
      for (LlamaBatch batch : validationBatches) {
        sum += model.loss(batch, adapters) * batch.targetCount();
      }
      double loss = sum / validationTargets;
      if (!Double.isFinite(loss)) {
        throw diverged(step - 1, "validation loss " + loss);
      }
      TrainingLog.Validation v = new TrainingLog.Validation(step, loss);
      validations.add(v);
      boolean isBest = loss < bestLoss;
      if (isBest) {
        bestLoss = loss;
        bestStep = step;
        if (best == null) {
          best = new ArrayList<>();
          for (INDArray p : parameters) {
            best.add(p.dup());
          }
        } else {
          for (int i = 0; i < parameters.size(); i++) {
            best.get(i).assign(parameters.get(i));
          }
        }
      }
      LOG.info("{} step {}: validation loss {} (perplexity {}){}", config, step,
          String.format("%.4f", loss), String.format("%.3f", v.perplexity()), isBest ? ", best so far" : "");
      for (RecoveryListener listener : listeners) {
        listener.onValidation(v, isBest);
      }
    }

    private void report(int step, int totalSteps, double loss, double rate) {
      double seconds = training.elapsed(TimeUnit.NANOSECONDS) / 1e9;
      double tokensPerSecond = seconds > 0 ? trainedTokens / seconds : 0;
      double secondsLeft = seconds / step * (totalSteps - step);
      LOG.debug("{} step {}/{}: loss {} lr {} ({} tokens/s, {} s left)", config, step, totalSteps,
          String.format("%.4f", loss), rate, String.format("%.0f", tokensPerSecond),
          String.format("%.0f", secondsLeft));
      RecoveryProgress progress =
          new RecoveryProgress(config, step, totalSteps, loss, rate, tokensPerSecond, secondsLeft);
      for (RecoveryListener listener : listeners) {
        listener.onStep(progress);
      }
    }
  }

  private static int realTokens(MicroBatch mb) {
    int n = 0;
    for (float[] row : mb.attentionMask()) {
      for (float v : row) {
        n += v != 0 ? 1 : 0;
      }
    }
    return n;
  }

  private static double globalNorm(List<INDArray> gradients) {
    double sumOfSquares = 0;
    for (INDArray g : gradients) {
      double n = g.norm2Number().doubleValue();
      sumOfSquares += n * n;
    }
    return Math.sqrt(sumOfSquares);
  }

  /** Settings of a {@link LoraRecoveryRunner}. */
  public static final class Builder {
    private final LlamaModel model;
    private final TrainingData train;
    private final TrainingData validation;
    private RecoverySettings settings = RecoverySettings.paper();
    private final List<RecoveryListener> listeners = new ArrayList<>();
    private LossTap lossTap;

    private Builder(LlamaModel model, TrainingData train, TrainingData validation) {
      this.model = Objects.requireNonNull(model, "model");
      this.train = Objects.requireNonNull(train, "train");
      this.validation = Objects.requireNonNull(validation, "validation");
    }

    /** How to train; default {@link RecoverySettings#paper()}. */
    public Builder settings(RecoverySettings value) {
      this.settings = Objects.requireNonNull(value, "settings");
      return this;
    }

    /** Adds a progress listener. */
    public Builder listener(RecoveryListener value) {
      listeners.add(Objects.requireNonNull(value, "listener"));
      return this;
    }

    /** Routes every micro-batch loss through {@code tap}, whose result the runner uses. */
    Builder lossTap(LossTap tap) {
      this.lossTap = tap;
      return this;
    }

    /**
     * The runner.
     *
     * @throws IllegalArgumentException when the training or validation data has no usable example
     */
    public LoraRecoveryRunner build() {
      return new LoraRecoveryRunner(this);
    }
  }
}
