package org.rankadaptor.dl4j.llama;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.dl4j.io.LoraTarget;

/**
 * The explicit backward pass of {@link LlamaModel}'s mean next-token loss: a forward pass that keeps
 * every layer's {@link LlamaModel.LayerTrace}, then the layers in reverse, each freeing its activations
 * as soon as its gradients are formed. It yields the gradients of the LoRA adapters (base weights frozen)
 * for recovery training, or of every base weight for pruning's importance estimates. Each operation's
 * backward is in {@link Ops} and checked against central differences in {@code OpsGradientTest}.
 */
final class Backward {

  private final LlamaModel model;
  private final LlamaConfig config;
  private final LlamaWeights weights;

  Backward(LlamaModel model) {
    this.model = model;
    this.config = model.config();
    this.weights = model.weights();
  }

  /** See {@link LlamaModel#loraGradients}. */
  LoraGradients loraGradients(LlamaBatch batch, LoraAdapters adapters, long dropoutSeed) {
    List<Map<LoraTarget, LoraAdapter>> grads = new ArrayList<>();
    for (int l = 0; l < adapters.nLayers(); l++) {
      Map<LoraTarget, LoraAdapter> layer = new EnumMap<>(LoraTarget.class);
      adapters.layer(l).forEach(
          (target, a) ->
              layer.put(
                  target, new LoraAdapter(a.a().ulike().assign(0), a.b().ulike().assign(0), a.scaling())));
      grads.add(layer);
    }
    LoraAdapters gradients = LoraAdapters.of(grads, adapters.dropout());
    double loss;
    if (adapters.dropout() > 0) {
      try (Random random = Nd4j.getRandomFactory().getNewRandomInstance(dropoutSeed)) {
        loss = backward(batch, adapters, random, gradients, null);
      } catch (Exception e) {
        throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
      }
    } else {
      loss = backward(batch, adapters, null, gradients, null);
    }
    return new LoraGradients(loss, batch.targetCount(), gradients);
  }

  /** See {@link LlamaModel#fullWeightGradients}. */
  WeightGradients fullWeightGradients(LlamaBatch batch) {
    List<LayerWeights> layers = new ArrayList<>();
    for (LayerWeights w : weights.layers()) {
      layers.add(
          new LayerWeights(
              zerosLike(w.attnNorm()), zerosLike(w.wq()), zerosLike(w.wk()), zerosLike(w.wv()),
              zerosLike(w.wo()), zerosLike(w.ffnNorm()), zerosLike(w.gate()), zerosLike(w.up()),
              zerosLike(w.down())));
    }
    INDArray embedding = zerosLike(weights.tokenEmbedding());
    INDArray classifier = config.tiedClassifier() ? embedding : zerosLike(weights.classifier());
    LlamaWeights gradients =
        new LlamaWeights(embedding, layers, zerosLike(weights.finalNorm()), classifier);
    double loss = backward(batch, null, null, null, gradients);
    return new WeightGradients(loss, batch.targetCount(), gradients);
  }

  private static INDArray zerosLike(INDArray a) {
    return Nd4j.zeros(a.dataType(), a.shape());
  }

  /**
   * Forward and backward of the mean next-token loss. Adds LoRA gradients into {@code loraGrads} and
   * base-weight gradients into {@code weightGrads}, whichever is not null; returns the loss.
   */
  private double backward(
      LlamaBatch batch, LoraAdapters adapters, Random dropout, LoraAdapters loraGrads,
      LlamaWeights weightGrads) {
    Padded p = Padded.of(batch.sequences(), config);
    int[] rowTargets = p.rowTargets(batch);
    int count = batch.targetCount();
    double[] rowWeights = new double[p.rows()];
    for (int r = 0; r < rowWeights.length; r++) {
      rowWeights[r] = rowTargets[r] >= 0 ? 1.0 / count : 0.0;
    }
    LlamaModel.Pass pass = model.pass(p, adapters, dropout);
    List<LlamaModel.LayerTrace> traces = new ArrayList<>(config.nLayers());
    INDArray h = model.decoder(model.embed(p.ids()), pass, traces, null);
    Ops.NormOut fin = Ops.rmsNorm(h, weights.finalNorm(), config.normEps());

    int[] targetRows = Padded.targetRows(rowTargets);
    INDArray dHidden = Nd4j.createUninitialized(model.dataType(), targetRows.length, config.dim());
    double[] lossSum = {0};
    model.classifierChunks(
        fin.y(), rowTargets, targetRows, rowWeights,
        (first, rows, hidden, scores, dLogits) -> {
          for (int i = 0; i < scores.targetLogProb().length; i++) {
            lossSum[0] -= scores.targetLogProb()[i];
          }
          INDArray dBlock = dHidden.get(interval(first, first + rows.length), all());
          Nd4j.gemm(dLogits, weights.classifier(), dBlock, false, false, 1.0, 0.0);
          if (weightGrads != null) {
            Nd4j.gemm(dLogits, hidden, weightGrads.classifier(), true, false, 1.0, 1.0);
          }
        });
    INDArray dHf = scatterRows(dHidden, targetRows, p.rows());
    INDArray dh =
        Ops.rmsNormBackward(dHf, h, weights.finalNorm(), fin.invRms(),
            weightGrads == null ? null : weightGrads.finalNorm());
    for (int l = config.nLayers() - 1; l >= 0; l--) {
      dh = layerBackward(l, dh, traces.get(l), pass, loraGrads,
          weightGrads == null ? null : weightGrads.layers().get(l));
      traces.get(l).release();
      Ops.release(traces.get(l).input());
      traces.set(l, null);
    }
    if (weightGrads != null) {
      INDArray dEmbedding = weightGrads.tokenEmbedding();
      for (int r = 0; r < p.rows(); r++) {
        if (r % p.t() < p.lengths()[r / p.t()]) {
          dEmbedding.getRow(p.ids()[r]).addi(dh.getRow(r));
        }
      }
    }
    return lossSum[0] / count;
  }

  /** One decoder layer in reverse: the MLP, then attention, each through its norm and residual. */
  private INDArray layerBackward(
      int l, INDArray dOut, LlamaModel.LayerTrace f, LlamaModel.Pass pass, LoraAdapters loraGrads,
      LayerWeights dw) {
    LayerWeights w = weights.layers().get(l);
    LayerShape s = config.layer(l);
    RopeTables rope = model.rope(s.headDim());
    int b = pass.batch();
    int t = pass.t();

    INDArray dAct = linearBack(dOut, f.act().a(), l, LoraTarget.DOWN, f.down(), pass, loraGrads, dw);
    Ops.SwigluGrads dSwiglu = Ops.swigluBackward(dAct, f.gate().y(), f.up().y(), f.act().sigmoid());
    INDArray dn2 = linearBack(dSwiglu.dGate(), f.ffnNorm().y(), l, LoraTarget.GATE, f.gate(), pass,
        loraGrads, dw);
    INDArray dnUp =
        linearBack(dSwiglu.dUp(), f.ffnNorm().y(), l, LoraTarget.UP, f.up(), pass, loraGrads, dw);
    dn2.addi(dnUp);
    INDArray dMiddle =
        Ops.rmsNormBackward(dn2, f.middle(), w.ffnNorm(), f.ffnNorm().invRms(),
            dw == null ? null : dw.ffnNorm()).addi(dOut);
    Ops.release(dAct, dSwiglu.dGate(), dSwiglu.dUp(), dnUp, dn2, dOut);

    INDArray dContext =
        linearBack(dMiddle, f.attention().context(), l, LoraTarget.O, f.o(), pass, loraGrads, dw);
    Ops.AttentionShape geometry = new Ops.AttentionShape(b, t, t, s.nHeads(), s.nKvHeads(), s.headDim());
    Ops.AttentionGrads dAttention = Ops.attentionBackward(dContext, f.attention(), geometry);
    INDArray dq = Ops.rope(dAttention.dq(), b, t, s.nHeads(), s.headDim(), 0, rope.cos(), rope.negSin());
    INDArray dk =
        Ops.rope(dAttention.dk(), b, t, s.nKvHeads(), s.headDim(), 0, rope.cos(), rope.negSin());
    // The first layer's input is the frozen embedding: with no weight gradients wanted, the gradient
    // with respect to it is never used, so only the adapters' gradients are formed there.
    boolean needInput = l > 0 || dw != null;
    INDArray dn1 =
        linearBack(dq, f.attnNorm().y(), l, LoraTarget.Q, f.q(), pass, loraGrads, dw, needInput);
    INDArray dnk =
        linearBack(dk, f.attnNorm().y(), l, LoraTarget.K, f.k(), pass, loraGrads, dw, needInput);
    INDArray dnv = linearBack(
        dAttention.dv(), f.attnNorm().y(), l, LoraTarget.V, f.v(), pass, loraGrads, dw, needInput);
    Ops.release(dContext, dAttention.dq(), dAttention.dk(), dAttention.dv(), dq, dk);
    if (!needInput) {
      Ops.release(dMiddle);
      return null;
    }
    dn1.addi(dnk).addi(dnv);
    Ops.release(dnk, dnv);
    INDArray dIn =
        Ops.rmsNormBackward(dn1, f.input(), w.attnNorm(), f.attnNorm().invRms(),
            dw == null ? null : dw.attnNorm()).addi(dMiddle);
    Ops.release(dn1, dMiddle);
    return dIn;
  }

  private INDArray linearBack(
      INDArray dy, INDArray x, int l, LoraTarget target, Ops.LinearOut f, LlamaModel.Pass pass,
      LoraAdapters loraGrads, LayerWeights dw) {
    return linearBack(dy, x, l, target, f, pass, loraGrads, dw, true);
  }

  private INDArray linearBack(
      INDArray dy, INDArray x, int l, LoraTarget target, Ops.LinearOut f, LlamaModel.Pass pass,
      LoraAdapters loraGrads, LayerWeights dw, boolean needInput) {
    return Ops.linearBackward(
        dy, x, weights.layers().get(l).projection(target), pass.lora(l, target), f,
        loraGrads == null ? null : loraGrads.get(l, target),
        dw == null ? null : dw.projection(target), needInput);
  }

  /** A (rows, cols) matrix of zeros with row {@code targetRows[i]} set to row {@code i} of {@code compact}. */
  private static INDArray scatterRows(INDArray compact, int[] targetRows, int rows) {
    if (targetRows.length == rows) {
      return compact;
    }
    int cols = (int) compact.size(1);
    INDArray full = Nd4j.zeros(compact.dataType(), rows, cols);
    if (!Kernels.fused()) {
      // Row by row as ND4J operations: the loop below reads and writes host memory.
      for (int i = 0; i < targetRows.length; i++) {
        full.putRow(targetRows[i], compact.getRow(i));
      }
      Ops.release(compact);
      return full;
    }
    Kernels.Values from = Kernels.values(compact);
    Kernels.Values to = Kernels.values(full);
    for (int i = 0; i < targetRows.length; i++) {
      int src = i * cols;
      int dst = targetRows[i] * cols;
      for (int c = 0; c < cols; c++) {
        to.set(dst + c, from.get(src + c));
      }
    }
    Ops.release(compact);
    return full;
  }
}
