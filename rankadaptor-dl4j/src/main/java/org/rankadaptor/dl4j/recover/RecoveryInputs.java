package org.rankadaptor.dl4j.recover;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.llama.LayerWeights;
import org.rankadaptor.dl4j.llama.LlamaBatch;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every recovery of one runner starts from: the frozen model, the training examples and the
 * validation micro-batches, cut to the settings' length, and their fingerprints.
 */
final class RecoveryInputs {

  private static final Logger LOG = LoggerFactory.getLogger(RecoveryInputs.class);

  /** Any token id serves as padding: micro-batches are cut back to each example's own length. */
  static final int PAD_ID = 0;

  final LlamaModel model;
  final TrainingData train;
  final List<LlamaBatch> validationBatches;
  final long validationTargets;
  final String trainFingerprint;
  final String validationFingerprint;
  private String modelHash; // computed on first use: hashing every weight takes a while

  RecoveryInputs(LlamaModel model, TrainingData train, TrainingData validation, RecoverySettings settings) {
    this.model = model;
    int maxLength = Math.min(settings.cutoffLength(), model.config().maxSeqLen());
    this.train = cut(train, maxLength, "training");
    TrainingData cutValidation = cut(validation, maxLength, "validation");
    List<LlamaBatch> batches = new ArrayList<>();
    for (MicroBatch mb : cutValidation.microBatchesInOrder(settings.microBatchSize(), PAD_ID)) {
      batches.add(toLlamaBatch(mb));
    }
    this.validationBatches = List.copyOf(batches);
    this.validationTargets = cutValidation.targetTokens();
    this.trainFingerprint = this.train.fingerprint();
    this.validationFingerprint = cutValidation.fingerprint();
  }

  /** SHA-256 of the model's shapes and weights, computed once. */
  synchronized String modelFingerprint() {
    if (modelHash == null) {
      Nd4jRuntime.ensureInitialized();
      modelHash = weightsHash(model);
    }
    return modelHash;
  }

  /** A runner's provenance over these inputs; {@code adaLora} null for LoRA. */
  RecoveryProvenance provenance(Class<?> runner, RecoverySettings settings, AdaLoraSettings adaLora) {
    return new RecoveryProvenance(runner.getSimpleName(), settings, adaLora, modelFingerprint(), trainFingerprint,
        validationFingerprint);
  }

  /** Mean validation loss of the model with {@code adapters} applied. */
  double validationLoss(org.rankadaptor.dl4j.llama.LoraAdapters adapters) {
    double sum = 0;
    for (LlamaBatch batch : validationBatches) {
      sum += model.loss(batch, adapters) * batch.targetCount();
    }
    return sum / validationTargets;
  }

  /** Optimiser steps a recovery takes with these settings over this training data. */
  int totalSteps(RecoverySettings settings) {
    if (settings.maxSteps() > 0) {
      return settings.maxSteps();
    }
    int microBatches = (train.size() + settings.microBatchSize() - 1) / settings.microBatchSize();
    int perStep = settings.batchSize() / settings.microBatchSize();
    return settings.epochs() * ((microBatches + perStep - 1) / perStep);
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
  static LlamaBatch toLlamaBatch(MicroBatch mb) {
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
}
