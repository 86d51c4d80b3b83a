package org.rankadaptor.dl4j.recover;

import com.google.common.base.Stopwatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RecoveryFailedException;
import org.rankadaptor.Seeds;
import org.rankadaptor.dl4j.llama.LlamaBatch;
import org.rankadaptor.dl4j.llama.LoraGradients;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One recovery's training loop, shared by LoRA and AdaLoRA: AdamW with warmup and decay, gradient
 * accumulation over micro-batches weighted by target tokens, global-norm clipping, validation at
 * intervals, and the best keepable validated state remembered by the {@link TrainableAdapters}. A
 * non-finite or exploding loss, or a run whose kept state is its starting point, is a {@link
 * RecoveryFailedException}.
 */
final class AdapterTraining {

  private static final Logger LOG = LoggerFactory.getLogger(AdapterTraining.class);

  /** Added to the gradient norm before dividing, as PyTorch's {@code clip_grad_norm_} does. */
  private static final double CLIP_EPSILON = 1e-6;

  /** Sees each micro-batch's loss before the runner does; lets tests inject a fault. */
  @FunctionalInterface
  interface LossTap {
    double apply(RankConfig config, int step, double loss);
  }

  private final RecoveryInputs inputs;
  private final RecoverySettings settings;
  private final List<RecoveryListener> listeners;
  private final LossTap lossTap;
  private final RankConfig config;
  private final long seed;
  private final TrainableAdapters trainable;
  private final List<INDArray> parameters;
  private final List<TrainingLog.Step> steps = new ArrayList<>();
  private final List<TrainingLog.Validation> validations = new ArrayList<>();
  private final Stopwatch total = Stopwatch.createUnstarted();
  private final Stopwatch training = Stopwatch.createUnstarted();
  private int bestStep;
  private double bestLoss = Double.POSITIVE_INFINITY;
  private long trainedTokens;

  AdapterTraining(RecoveryInputs inputs, RecoverySettings settings, List<RecoveryListener> listeners,
      LossTap lossTap, RankConfig config, long seed, TrainableAdapters trainable) {
    this.inputs = inputs;
    this.settings = settings;
    this.listeners = listeners;
    this.lossTap = lossTap;
    this.config = config;
    this.seed = seed;
    this.trainable = trainable;
    this.parameters = trainable.parameters();
  }

  /**
   * Trains for {@code totalSteps} steps (none when there is nothing to train) and returns the log; the
   * kept state is in the trainable.
   *
   * @throws RecoveryFailedException when training diverged or never improved on its starting point
   */
  TrainingLog run(int totalSteps) {
    total.start();
    validate(0);
    int stepsToTake = parameters.isEmpty() ? 0 : totalSteps;
    if (stepsToTake > 0) {
      train(stepsToTake);
      if (bestStep == 0) {
        // Kept its starting point: the adapters are those of no recovery, and a score measured on them
        // would pass for a recovery's.
        total.stop();
        String message = "recovery of " + config + " (seed " + seed + ") never improved on its starting "
            + "validation loss " + String.format(Locale.ROOT, "%.4f", validations.get(0).loss()) + " in "
            + stepsToTake + " steps (last " + String.format(Locale.ROOT, "%.4f",
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
        config, stepsToTake, String.format("%.1f", log.seconds()),
        String.format("%.0f", log.tokensPerSecond()), String.format("%.4f", log.initialValidationLoss()),
        String.format("%.4f", bestLoss), bestStep);
    return log;
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
    TrainingData train = inputs.train;
    List<MicroBatch> epochBatches =
        train.microBatches(settings.microBatchSize(), RecoveryInputs.PAD_ID, dataSeed, epoch);
    int cursor = 0;
    double firstLoss = Double.NaN;
    for (int step = 0; step < totalSteps; step++) {
      if (cursor == epochBatches.size()) {
        epoch++;
        epochBatches = train.microBatches(settings.microBatchSize(), RecoveryInputs.PAD_ID, dataSeed, epoch);
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
      double penalty = trainable.addRegularizer(accumulated);
      if (!Double.isFinite(penalty)) {
        throw diverged(step, "regulariser " + penalty);
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
      trainable.afterUpdate(step, accumulated);
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
      LlamaBatch batch = RecoveryInputs.toLlamaBatch(group.get(j));
      LoraGradients g = inputs.model.loraGradients(batch, trainable.adapters(), Seeds.mix(seed, 2 + step * 1024L + j));
      double loss = lossTap == null ? g.loss() : lossTap.apply(config, step + 1, g.loss());
      if (!Double.isFinite(loss)) {
        throw diverged(step, "loss " + loss + " on micro-batch " + j);
      }
      lossSum += loss * g.targetCount();
      trainable.addGradients(g.gradients(), g.targetCount() / (double) stepTargets, accumulated);
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
    double loss = inputs.validationLoss(trainable.adapters());
    if (!Double.isFinite(loss)) {
      throw diverged(step - 1, "validation loss " + loss);
    }
    TrainingLog.Validation v = new TrainingLog.Validation(step, loss);
    validations.add(v);
    boolean isBest = loss < bestLoss && trainable.keepable(step);
    if (isBest) {
      bestLoss = loss;
      bestStep = step;
      trainable.keep();
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
}
