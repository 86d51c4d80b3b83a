package org.rankadaptor.dl4j.recover;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.llama.LoraAdapter;
import org.rankadaptor.dl4j.llama.LoraAdapters;

/** Plain LoRA: the optimiser updates the adapters' A and B in place; the best state is a copy of them. */
final class LoraTraining implements TrainableAdapters {

  private final LoraAdapters adapters;
  private final List<INDArray> parameters;
  private List<INDArray> best;

  LoraTraining(LoraAdapters adapters) {
    this.adapters = adapters;
    this.parameters = parameters(adapters);
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

  @Override
  public List<INDArray> parameters() {
    return parameters;
  }

  @Override
  public LoraAdapters adapters() {
    return adapters;
  }

  @Override
  public void addGradients(LoraAdapters adapterGradients, double weight, List<INDArray> gradients) {
    List<INDArray> grads = parameters(adapterGradients);
    for (int i = 0; i < grads.size(); i++) {
      gradients.get(i).addi(grads.get(i).muli(weight));
    }
  }

  @Override
  public double addRegularizer(List<INDArray> gradients) {
    return 0;
  }

  @Override
  public void afterUpdate(int step, List<INDArray> gradients) {}

  @Override
  public boolean keepable(int completedSteps) {
    return true;
  }

  @Override
  public void keep() {
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

  /** The kept state as adapters shaped like the trained ones. */
  LoraAdapters kept() {
    List<Map<LoraTarget, LoraAdapter>> layers = new ArrayList<>();
    int i = 0;
    for (int l = 0; l < adapters.nLayers(); l++) {
      Map<LoraTarget, LoraAdapter> layer = new EnumMap<>(LoraTarget.class);
      for (Map.Entry<LoraTarget, LoraAdapter> e : adapters.layer(l).entrySet()) {
        layer.put(e.getKey(), new LoraAdapter(best.get(i), best.get(i + 1), e.getValue().scaling()));
        i += 2;
      }
      layers.add(layer);
    }
    return LoraAdapters.of(layers, adapters.dropout());
  }
}
