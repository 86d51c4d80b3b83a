package org.rankadaptor.dl4j.recover;

import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.rankadaptor.dl4j.llama.LoraAdapters;

/**
 * What a recovery trains, seen by {@link AdapterTraining}: the tensors the optimiser updates and the LoRA
 * adapters they stand for. Plain LoRA trains the adapters' A and B themselves; AdaLoRA trains an SVD-shaped
 * triplet per rank and applies it as the adapter {@code A = diag(lambda) Q}, {@code B = P}.
 */
interface TrainableAdapters {

  /** The tensors the optimiser updates, always in this order. */
  List<INDArray> parameters();

  /** The adapters as the model applies them, reflecting the parameters' current values. */
  LoraAdapters adapters();

  /**
   * Adds {@code weight} times the gradient with respect to {@link #parameters()} into {@code gradients},
   * given the gradient with respect to the adapters' A and B.
   */
  void addGradients(LoraAdapters adapterGradients, double weight, List<INDArray> gradients);

  /** Adds a regulariser's gradient into {@code gradients} and returns its value; 0 when there is none. */
  double addRegularizer(List<INDArray> gradients);

  /**
   * Called after every optimiser update.
   *
   * @param step 0-based index of the step just taken
   * @param gradients the gradients that update used (after clipping)
   */
  void afterUpdate(int step, List<INDArray> gradients);

  /** Whether the state after {@code completedSteps} steps may be kept as the recovery's result. */
  boolean keepable(int completedSteps);

  /** Remembers the current state as the best so far. */
  void keep();
}
