package org.rankadaptor.dl4j.recover;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * AdamW (Loshchilov and Hutter): Adam with bias-corrected moments and weight decay decoupled from the
 * gradient, updating a fixed list of parameter tensors in place. One step at learning rate {@code lr}, as
 * PyTorch's {@code torch.optim.AdamW} computes it:
 *
 * <pre>
 *   p  = p * (1 - lr * weightDecay)
 *   m  = beta1 * m + (1 - beta1) * g
 *   v  = beta2 * v + (1 - beta2) * g^2
 *   p  = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 * </pre>
 *
 * <p>The moment buffers are as large as the parameters and belong to this instance; it is not
 * thread-safe.
 *
 * @since 0.1.0
 */
public final class AdamW {

  /** PyTorch's and Hugging Face's defaults. */
  public static final double DEFAULT_BETA1 = 0.9;

  /** PyTorch's default decay of the second-moment estimate. */
  public static final double DEFAULT_BETA2 = 0.999;
  /** PyTorch's default term added to the denominator. */
  public static final double DEFAULT_EPSILON = 1e-8;

  private final List<INDArray> parameters;
  private final List<INDArray> firstMoments;
  private final List<INDArray> secondMoments;
  private final List<INDArray> scratch;
  private final double beta1;
  private final double beta2;
  private final double epsilon;
  private final double weightDecay;
  private long steps;

  /**
   * An optimiser over these tensors, updated in place by {@link #step}.
   *
   * @param parameters the trainable tensors; their order is the order of the gradients given to {@code step}
   * @param weightDecay decoupled decay per unit of learning rate; 0 for none
   */
  public AdamW(List<INDArray> parameters, double beta1, double beta2, double epsilon, double weightDecay) {
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException("betas must lie in [0, 1), got " + beta1 + " and " + beta2);
    }
    if (!(epsilon > 0) || !(weightDecay >= 0)) {
      throw new IllegalArgumentException(
          "epsilon must be positive and weight decay non-negative, got " + epsilon + " and " + weightDecay);
    }
    this.parameters = List.copyOf(parameters);
    this.firstMoments = new ArrayList<>(parameters.size());
    this.secondMoments = new ArrayList<>(parameters.size());
    this.scratch = new ArrayList<>(parameters.size());
    for (INDArray p : this.parameters) {
      firstMoments.add(p.ulike().assign(0));
      secondMoments.add(p.ulike().assign(0));
      scratch.add(p.ulike());
    }
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.weightDecay = weightDecay;
  }

  /** An optimiser with PyTorch's default betas and epsilon. */
  public AdamW(List<INDArray> parameters, double weightDecay) {
    this(parameters, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPSILON, weightDecay);
  }

  /** Steps taken so far. */
  public long steps() {
    return steps;
  }

  /**
   * One update of every parameter.
   *
   * @param gradients one per parameter, same shapes, in the constructor's order; not modified
   * @param learningRate this step's learning rate
   */
  public void step(List<INDArray> gradients, double learningRate) {
    if (gradients.size() != parameters.size()) {
      throw new IllegalArgumentException(
          gradients.size() + " gradients for " + parameters.size() + " parameters");
    }
    steps++;
    double correction1 = 1 - Math.pow(beta1, steps);
    double correction2 = 1 - Math.pow(beta2, steps);
    for (int i = 0; i < parameters.size(); i++) {
      INDArray p = parameters.get(i);
      INDArray g = gradients.get(i);
      if (!Arrays.equals(p.shape(), g.shape())) {
        throw new IllegalArgumentException(
            "gradient " + i + " has shape " + Arrays.toString(g.shape()) + ", parameter "
                + Arrays.toString(p.shape()));
      }
      INDArray m = firstMoments.get(i);
      INDArray v = secondMoments.get(i);
      INDArray s = scratch.get(i);
      if (weightDecay > 0) {
        p.muli(1 - learningRate * weightDecay);
      }
      m.muli(beta1).addi(s.assign(g).muli(1 - beta1));
      v.muli(beta2).addi(s.assign(g).muli(g).muli(1 - beta2));
      // s = sqrt(v / c2) + eps, then m / s, then scaled by lr / c1: the update, without new buffers.
      Transforms.sqrt(s.assign(v).divi(correction2), false).addi(epsilon);
      p.subi(s.rdivi(m).muli(learningRate / correction1));
    }
  }
}
