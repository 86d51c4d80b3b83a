package org.rankadaptor.dl4j.llama;


import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

// One file of about 500 lines on purpose: each operation stands next to its backward pass, in the order
// of a decoder layer, because OpsGradientTest proves them in those pairs against central differences and
// a change to one half must be read against the other.
/**
 * The operations of the decoder, each with its explicit backward pass, so that each can be checked
 * against finite differences alone. Activations are 2-D {@code [rows, features]} with rows ordered
 * (batch, position); attention reshapes them into one {@code [batch * kvHeads, group * T, headDim]}
 * tensor per operand so every head goes through a single batched matmul.
 *
 * <p>The loops themselves live apart, in {@link Kernels} (fused host loops) and {@link NdOps} (ND4J
 * operations for other backends).
 */
final class Ops {

  private Ops() {}

  /**
   * Frees the native buffers of arrays that will not be read again, so that memory does not wait for
   * the garbage collector. Arrays that share their buffer (views) are left to the collector; the same
   * array listed twice is closed once.
   */
  static void release(INDArray... arrays) {
    java.util.Set<INDArray> seen =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (INDArray a : arrays) {
      if (a != null && seen.add(a) && !a.wasClosed() && a.closeable()) {
        a.close();
      }
    }
  }

  // ---------------------------------------------------------------- RMSNorm: y = x / rms(x) * w

  /** Forward result of RMSNorm with what its backward needs. */
  record NormOut(INDArray y, INDArray invRms) {} // y (rows, dim); invRms (rows, 1)

  /** One pass per row: the mean square, its inverse root, the scaled and weighted output. */
  static NormOut rmsNorm(INDArray x, INDArray w, double eps) {
    if (!Kernels.fused()) {
      return NdOps.rmsNorm(x, w, eps);
    }
    int rows = (int) x.size(0);
    int dim = (int) x.size(1);
    INDArray in = contiguous(x);
    INDArray y = Nd4j.createUninitialized(x.dataType(), new long[] {rows, dim}, 'c');
    INDArray invRms = Nd4j.createUninitialized(x.dataType(), new long[] {rows, 1}, 'c');
    Kernels.Values xs = Kernels.values(in);
    Kernels.Values ws = Kernels.values(w);
    Kernels.Values ys = Kernels.values(y);
    Kernels.Values rs = Kernels.values(invRms);
    Kernels.forRows(
        rows,
        dim,
        (from, to) -> {
          for (int row = from; row < to; row++) {
            int base = row * dim;
            double squares = 0;
            for (int j = 0; j < dim; j++) {
              double v = xs.get(base + j);
              squares += v * v;
            }
            double r = 1.0 / Math.sqrt(squares / dim + eps);
            rs.set(row, r);
            for (int j = 0; j < dim; j++) {
              ys.set(base + j, xs.get(base + j) * r * ws.get(j));
            }
          }
        });
    if (in != x) {
      release(in);
    }
    return new NormOut(y, invRms);
  }

  /**
   * Gradient of RMSNorm with respect to its input: {@code dx = r*g - x * r^3 * sum(g*x)/D} with {@code g
   * = dy*w}. When {@code dw} is not null the weight gradient {@code sum_rows(dy * x * r)} is added to it.
   */
  static INDArray rmsNormBackward(INDArray dy, INDArray x, INDArray w, INDArray invRms, INDArray dw) {
    if (dw != null) {
      dw.addi(dy.mul(x).muliColumnVector(invRms).sum(0));
    }
    if (!Kernels.fused()) {
      return NdOps.rmsNormBackwardInput(dy, x, w, invRms);
    }
    int rows = (int) x.size(0);
    int dim = (int) x.size(1);
    INDArray dyIn = contiguous(dy);
    INDArray xIn = contiguous(x);
    INDArray dx = Nd4j.createUninitialized(x.dataType(), new long[] {rows, dim}, 'c');
    Kernels.Values dys = Kernels.values(dyIn);
    Kernels.Values xs = Kernels.values(xIn);
    Kernels.Values ws = Kernels.values(w);
    Kernels.Values rs = Kernels.values(contiguous(invRms));
    Kernels.Values dxs = Kernels.values(dx);
    Kernels.forRows(
        rows,
        dim,
        (from, to) -> {
          for (int row = from; row < to; row++) {
            int base = row * dim;
            double r = rs.get(row);
            double gx = 0;
            for (int j = 0; j < dim; j++) {
              gx += dys.get(base + j) * ws.get(j) * xs.get(base + j);
            }
            double coef = r * r * r * gx / dim;
            for (int j = 0; j < dim; j++) {
              dxs.set(base + j, r * dys.get(base + j) * ws.get(j) - xs.get(base + j) * coef);
            }
          }
        });
    if (dyIn != dy) {
      release(dyIn);
    }
    if (xIn != x) {
      release(xIn);
    }
    return dx;
  }

  // ---------------------------------------------------------------- RoPE, interleaved pairs

  /**
   * Rotates pairs {@code (2i, 2i+1)} of every head of {@code x} {@code [batch*T, heads*headDim]} by the
   * angle of its position {@code offset + t}. The backward pass is the same rotation with {@code sin}
   * negated, which is why callers pass the sine table to use.
   *
   * @param cos (maxSeqLen, headDim/2)
   * @param sin (maxSeqLen, headDim/2), or its negation for the backward pass
   */
  static INDArray rope(
      INDArray x, int batch, int t, int heads, int headDim, int offset, INDArray cos, INDArray sin) {
    if (!Kernels.fused()) {
      return NdOps.rope(x, batch, t, heads, headDim, offset, cos, sin);
    }
    int half = headDim / 2;
    int width = heads * headDim;
    INDArray in = contiguous(x);
    INDArray out = Nd4j.createUninitialized(x.dataType(), new long[] {(long) batch * t, width}, 'c');
    Kernels.Values xs = Kernels.values(in);
    Kernels.Values ys = Kernels.values(out);
    Kernels.Values cs = Kernels.values(cos);
    Kernels.Values ss = Kernels.values(sin);
    Kernels.forRows(
        batch * t,
        width,
        (from, to) -> {
          for (int row = from; row < to; row++) {
            int angles = (offset + row % t) * half;
            for (int h = 0; h < heads; h++) {
              int base = row * width + h * headDim;
              for (int i = 0; i < half; i++) {
                double even = xs.get(base + 2 * i);
                double odd = xs.get(base + 2 * i + 1);
                double c = cs.get(angles + i);
                double s = ss.get(angles + i);
                ys.set(base + 2 * i, even * c - odd * s);
                ys.set(base + 2 * i + 1, even * s + odd * c);
              }
            }
          }
        });
    if (in != x) {
      release(in);
    }
    return out;
  }

  /** {@code a} itself when it is c-ordered and contiguous, else such a copy. */
  static INDArray contiguous(INDArray a) {
    return Kernels.isContiguous(a) ? a : a.dup('c');
  }

  // ---------------------------------------------------------------- causal grouped-query attention

  /** What the attention backward needs: head-major operands and the softmax probabilities. */
  record AttentionOut(
      INDArray context, // (batch*T, heads*headDim)
      INDArray q, // (batch*kvHeads, group*T, headDim), scaled by 1/sqrt(headDim)
      INDArray k, // (batch*kvHeads, S, headDim)
      INDArray v, // (batch*kvHeads, S, headDim)
      INDArray probs, // (batch*kvHeads, group*T, S), zero at forbidden keys
      int[] keyLengths, // (batch): real keys per sequence
      int offset) {} // position of the first query

  /** Geometry of one attention call: T queries per sequence attending to S keys. */
  record AttentionShape(int batch, int t, int s, int heads, int kvHeads, int headDim) {
    int group() {
      return heads / kvHeads;
    }
  }

  /** {@code [batch*T, heads*hd]} rows to head-major {@code [batch*kvHeads, group*T, hd]}. */
  static INDArray toHeads(INDArray x, int batch, int t, int heads, int kvHeads, int headDim) {
    return x.reshape('c', batch, t, heads, headDim)
        .permute(0, 2, 1, 3)
        .dup('c')
        .reshape('c', (long) batch * kvHeads, (long) heads / kvHeads * t, headDim);
  }

  /** The inverse of {@link #toHeads}. */
  static INDArray fromHeads(INDArray x, int batch, int t, int heads, int headDim) {
    return x.reshape('c', batch, heads, t, headDim)
        .permute(0, 2, 1, 3)
        .dup('c')
        .reshape('c', (long) batch * t, (long) heads * headDim);
  }

  /**
   * softmax(q k^T / sqrt(hd)) v per head over the allowed keys, query head h reading key/value head h /
   * group. Query {@code i} of sequence {@code b} (position {@code offset + i}) reads key {@code j} when
   * {@code j <= offset + i} and {@code j < keyLengths[b]}. Grouping the query heads of one kv head along
   * the row axis lets one batched matmul serve the whole group without copying keys.
   *
   * @param q (batch*T, heads*hd), already rotated
   * @param k (batch*S, kvHeads*hd), already rotated
   * @param v (batch*S, kvHeads*hd)
   * @param keyLengths per sequence, how many of its S keys are real (the rest is padding)
   * @param offset position of the first query
   */
  static AttentionOut attention(
      INDArray q, INDArray k, INDArray v, int[] keyLengths, int offset, AttentionShape g) {
    // Scaling q (rows x headDim) is cheaper than scaling the (T x S) scores.
    INDArray qh =
        toHeads(q, g.batch(), g.t(), g.heads(), g.kvHeads(), g.headDim())
            .muli(1.0 / Math.sqrt(g.headDim()));
    INDArray kh = toHeads(k, g.batch(), g.s(), g.kvHeads(), g.kvHeads(), g.headDim());
    INDArray vh = toHeads(v, g.batch(), g.s(), g.kvHeads(), g.kvHeads(), g.headDim());
    INDArray scores = Nd4j.matmul(qh, kh, false, true, false);
    maskedSoftmax(scores, keyLengths, offset, g);
    INDArray context = Nd4j.matmul(scores, vh);
    return new AttentionOut(
        fromHeads(context, g.batch(), g.t(), g.heads(), g.headDim()), qh, kh, vh, scores, keyLengths,
        offset);
  }

  /**
   * Row-wise softmax of {@code scores} (batch*kvHeads, group*T, S) in place over each query's allowed
   * keys, zero elsewhere: forbidden keys cost no exponential, and the probabilities come out exactly as
   * with a large negative mask.
   */
  private static void maskedSoftmax(INDArray scores, int[] keyLengths, int offset, AttentionShape g) {
    int s = g.s();
    int rows = g.batch() * g.kvHeads() * g.group() * g.t();
    if (!Kernels.fused()) {
      int[] allowed = new int[rows];
      for (int r = 0; r < rows; r++) {
        allowed[r] = allowedKeys(r, keyLengths, offset, g);
      }
      NdOps.maskedSoftmax(scores, allowed, s);
      return;
    }
    Kernels.Values x = Kernels.values(scores);
    Kernels.forRows(
        rows,
        s,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            int allowed = allowedKeys(r, keyLengths, offset, g);
            int base = r * s;
            double max = x.get(x.argmax(base, base + allowed));
            double sum = x.expSum(base, base + allowed, max, true);
            x.scale(base, base + allowed, 1.0 / sum);
            x.zero(base + allowed, base + s);
          }
        });
  }

  /** How many keys, from the first, row {@code r} of the head-major scores may read. */
  private static int allowedKeys(int r, int[] keyLengths, int offset, AttentionShape g) {
    int b = r / (g.group() * g.t()) / g.kvHeads();
    return Math.min(offset + r % g.t() + 1, keyLengths[b]);
  }

  /** Gradients of attention with respect to its rotated q, k and v, in their row layouts. */
  record AttentionGrads(INDArray dq, INDArray dk, INDArray dv) {}

  static AttentionGrads attentionBackward(INDArray dContext, AttentionOut f, AttentionShape g) {
    INDArray dO = toHeads(dContext, g.batch(), g.t(), g.heads(), g.kvHeads(), g.headDim());
    // Transposing the small (T x headDim) operands instead of the (T x S) probabilities.
    INDArray dVt = Nd4j.matmul(dO, f.probs(), true, false, false);
    INDArray dS = Nd4j.matmul(dO, f.v(), false, true, false);
    softmaxBackward(dS, f, g);
    // f.q() is already scaled by 1/sqrt(headDim), which dK inherits; dQ gets the factor here.
    INDArray dQ = Nd4j.matmul(dS, f.k()).muli(1.0 / Math.sqrt(g.headDim()));
    INDArray dKt = Nd4j.matmul(f.q(), dS, true, false, false);
    release(dS, dO);
    INDArray dK = dKt.permute(0, 2, 1).dup('c');
    INDArray dV = dVt.permute(0, 2, 1).dup('c');
    AttentionGrads grads =
        new AttentionGrads(
            fromHeads(dQ, g.batch(), g.t(), g.heads(), g.headDim()),
            fromHeads(dK, g.batch(), g.s(), g.kvHeads(), g.headDim()),
            fromHeads(dV, g.batch(), g.s(), g.kvHeads(), g.headDim()));
    release(dQ, dK, dV, dKt, dVt);
    return grads;
  }

  /**
   * In place, per row of {@code dP} and the probabilities P: {@code dS = P * (dP - sum_j dP_j P_j)},
   * computed over the allowed keys only and zero elsewhere, where P is zero.
   */
  private static void softmaxBackward(INDArray dP, AttentionOut f, AttentionShape g) {
    int s = g.s();
    int rows = g.batch() * g.kvHeads() * g.group() * g.t();
    if (!Kernels.fused()) {
      NdOps.softmaxBackward(dP, f.probs(), rows, s);
      return;
    }
    Kernels.Values d = Kernels.values(dP);
    Kernels.Values p = Kernels.values(f.probs());
    Kernels.forRows(
        rows,
        s,
        (from, to) -> {
          for (int r = from; r < to; r++) {
            int allowed = allowedKeys(r, f.keyLengths(), f.offset(), g);
            int base = r * s;
            d.softmaxBackward(p, base, base + allowed);
            d.zero(base + allowed, base + s);
          }
        });
  }

  // ---------------------------------------------------------------- SwiGLU: a = silu(gate) * up

  /** SwiGLU output with the sigmoid of the gate kept for the backward pass. */
  record SwigluOut(INDArray a, INDArray sigmoid) {}

  static SwigluOut swiglu(INDArray gate, INDArray up) {
    if (!Kernels.fused()) {
      return NdOps.swiglu(gate, up);
    }
    INDArray sigmoid = gate.dup('c');
    Kernels.Values values = Kernels.values(sigmoid);
    int cols = (int) gate.size(1);
    Kernels.forRows((int) gate.size(0), cols, (from, to) -> values.sigmoid(from * cols, to * cols));
    return new SwigluOut(gate.mul(sigmoid).muli(up), sigmoid);
  }

  /** Gradients of SwiGLU with respect to gate and up. */
  record SwigluGrads(INDArray dGate, INDArray dUp) {}

  /** One pass over the four inputs instead of seven ops with their temporaries. */
  static SwigluGrads swigluBackward(INDArray da, INDArray gate, INDArray up, INDArray sigmoid) {
    if (!Kernels.fused()) {
      return NdOps.swigluBackward(da, gate, up, sigmoid);
    }
    int rows = (int) gate.size(0);
    int cols = (int) gate.size(1);
    INDArray dGate = Nd4j.createUninitialized(gate.dataType(), new long[] {rows, cols}, 'c');
    INDArray dUp = Nd4j.createUninitialized(gate.dataType(), new long[] {rows, cols}, 'c');
    INDArray daIn = contiguous(da);
    Kernels.Values das = Kernels.values(daIn);
    Kernels.Values gs = Kernels.values(gate);
    Kernels.Values us = Kernels.values(up);
    Kernels.Values ss = Kernels.values(sigmoid);
    Kernels.Values dgs = Kernels.values(dGate);
    Kernels.Values dus = Kernels.values(dUp);
    Kernels.forRows(
        rows,
        cols,
        (from, to) -> {
          for (int i = from * cols; i < to * cols; i++) {
            double d = das.get(i);
            double g = gs.get(i);
            double s = ss.get(i);
            dus.set(i, d * g * s);
            // d silu(g)/dg = s * (1 + g * (1 - s))
            dgs.set(i, d * us.get(i) * s * (1 + g * (1 - s)));
          }
        });
    if (daIn != da) {
      release(daIn);
    }
    return new SwigluGrads(dGate, dUp);
  }

  // ---------------------------------------------------------------- linear with optional LoRA

  /**
   * Forward state of a LoRA linear layer.
   *
   * @param y (rows, out)
   * @param loraInput (rows, in): the input after dropout (the input itself without dropout), or null
   * @param loraHidden (rows, rank): loraInput A^T, or null
   * @param dropoutScale (rows, in): kept/(1-p) mask, or null without dropout
   */
  record LinearOut(INDArray y, INDArray loraInput, INDArray loraHidden, INDArray dropoutScale) {}

  /** {@code y = x W^T + scaling * (drop(x) A^T) B^T}; {@code dropoutScale} may be null. */
  static LinearOut linear(INDArray x, INDArray w, LoraAdapter lora, INDArray dropoutScale) {
    INDArray y = Nd4j.gemm(x, w, false, true);
    if (lora == null) {
      return new LinearOut(y, null, null, null);
    }
    INDArray loraInput = dropoutScale == null ? x : x.mul(dropoutScale);
    INDArray hidden = Nd4j.gemm(loraInput, lora.a(), false, true);
    Nd4j.gemm(hidden, lora.b(), y, false, true, lora.scaling(), 1.0);
    return new LinearOut(y, loraInput, hidden, dropoutScale);
  }

  /**
   * Backward of {@link #linear}: returns dx; adds {@code dA}, {@code dB} into {@code loraGrad} (when
   * both it and an adapter exist) and {@code dW = dy^T x} into {@code dw} (when not null).
   */
  static INDArray linearBackward(
      INDArray dy, INDArray x, INDArray w, LoraAdapter lora, LinearOut f, LoraAdapter loraGrad,
      INDArray dw) {
    return linearBackward(dy, x, w, lora, f, loraGrad, dw, true);
  }

  /** As above; with {@code needInput} false, dx is not formed and null is returned. */
  static INDArray linearBackward(
      INDArray dy, INDArray x, INDArray w, LoraAdapter lora, LinearOut f, LoraAdapter loraGrad,
      INDArray dw, boolean needInput) {
    INDArray dx = needInput ? Nd4j.gemm(dy, w, false, false) : null;
    if (dw != null) {
      Nd4j.gemm(dy, x, dw, true, false, 1.0, 1.0);
    }
    if (lora != null) {
      double s = lora.scaling();
      INDArray dHidden = Nd4j.gemm(dy, lora.b(), false, false);
      if (loraGrad != null) {
        Nd4j.gemm(dy, f.loraHidden(), loraGrad.b(), true, false, s, 1.0);
        Nd4j.gemm(dHidden, f.loraInput(), loraGrad.a(), true, false, s, 1.0);
      }
      if (!needInput) {
        return null;
      }
      if (f.dropoutScale() == null) {
        Nd4j.gemm(dHidden, lora.a(), dx, false, false, s, 1.0);
      } else {
        dx.addi(Nd4j.gemm(dHidden, lora.a(), false, false).muli(f.dropoutScale()).muli(s));
      }
    }
    return dx;
  }

  // ---------------------------------------------------------------- softmax cross-entropy

  /**
   * Per-row log-softmax statistics of a block of logits.
   *
   * @param targetLogProb log p(target) per row (0 where the target is negative)
   * @param greedy whether the target is the row's argmax
   */
  record RowScores(double[] targetLogProb, boolean[] greedy) {}

  /**
   * Scores {@code targets[i]} under row {@code i} of {@code logits} {@code (rows, vocab)}, a contiguous
   * c-ordered block; rows with a negative target score 0. With {@code rowWeights} not null the logits are
   * overwritten by the gradient of {@code -sum_i rowWeights[i] * log p(targets[i])}; otherwise they are
   * only read. One fused loop per row (max and argmax, then the exponentials, then the scaling), because
   * for large vocabularies this is memory-bound and libnd4j's separate ops each make a pass.
   */
  static RowScores crossEntropy(INDArray logits, int[] targets, double[] rowWeights) {
    if (!Kernels.fused()) {
      return NdOps.crossEntropy(logits, targets, rowWeights);
    }
    int rows = (int) logits.size(0);
    int vocab = (int) logits.size(1);
    double[] logProb = new double[rows];
    boolean[] greedy = new boolean[rows];
    Kernels.Values x = Kernels.values(logits);
    Kernels.forRows(
        rows,
        vocab,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            int base = i * vocab;
            int target = targets[i];
            int argmax = x.argmax(base, base + vocab) - base;
            double max = x.get(base + argmax);
            double targetLogit = target >= 0 ? x.get(base + target) : 0;
            double sum = x.expSum(base, base + vocab, max, rowWeights != null);
            if (rowWeights != null) {
              // dlogits = w_i * (softmax - onehot(target))
              double w = rowWeights[i];
              x.scale(base, base + vocab, w / sum);
              if (target >= 0 && w != 0) {
                x.set(base + target, x.get(base + target) - w);
              }
            }
            if (target >= 0) {
              logProb[i] = targetLogit - max - Math.log(sum);
              greedy[i] = argmax == target;
            }
          }
        });
    return new RowScores(logProb, greedy);
  }
}
