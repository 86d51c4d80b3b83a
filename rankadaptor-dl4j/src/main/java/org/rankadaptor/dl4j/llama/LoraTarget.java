package org.rankadaptor.dl4j.llama;

/**
 * The seven projections of a decoder layer that LoRA can adapt, in PEFT's order and naming.
 *
 * @since 0.1.0
 */
public enum LoraTarget {
  /** The attention's query projection. */
  Q("self_attn.q_proj"),
  /** The attention's key projection. */
  K("self_attn.k_proj"),
  /** The attention's value projection. */
  V("self_attn.v_proj"),
  /** The attention's output projection. */
  O("self_attn.o_proj"),
  /** The MLP's gate projection. */
  GATE("mlp.gate_proj"),
  /** The MLP's up projection. */
  UP("mlp.up_proj"),
  /** The MLP's down projection. */
  DOWN("mlp.down_proj");

  private final String moduleName;

  LoraTarget(String moduleName) {
    this.moduleName = moduleName;
  }

  /** The module's name inside a Hugging Face LLaMA layer, e.g. {@code self_attn.q_proj}. */
  public String moduleName() {
    return moduleName;
  }

  /** Input width of the projection in a layer of this shape. */
  public int inFeatures(int dim, LayerShape shape) {
    return switch (this) {
      case Q, K, V, GATE, UP -> dim;
      case O -> shape.queryDim();
      case DOWN -> shape.hiddenDim();
    };
  }

  /** Output width of the projection in a layer of this shape. */
  public int outFeatures(int dim, LayerShape shape) {
    return switch (this) {
      case Q -> shape.queryDim();
      case K, V -> shape.kvDim();
      case O, DOWN -> dim;
      case GATE, UP -> shape.hiddenDim();
    };
  }
}
