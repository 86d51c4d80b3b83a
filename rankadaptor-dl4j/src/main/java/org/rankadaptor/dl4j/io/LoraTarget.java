package org.rankadaptor.dl4j.io;

import java.util.Optional;

/**
 * The seven linear projections of a LLaMA decoder layer that LoRA adapts, in PEFT's order, with their
 * Hugging Face names: one name for a projection in adapter files, checkpoints, the model and the
 * training code. The projections' widths depend on the layer's shape and live with the model ({@code
 * llama.LayerShape#inFeatures}, {@code #outFeatures}).
 *
 * @since 0.1.0
 */
public enum LoraTarget {
  /** The attention's query projection, {@code self_attn.q_proj}. */
  Q("self_attn", "q_proj"),
  /** The attention's key projection, {@code self_attn.k_proj}. */
  K("self_attn", "k_proj"),
  /** The attention's value projection, {@code self_attn.v_proj}. */
  V("self_attn", "v_proj"),
  /** The attention's output projection, {@code self_attn.o_proj}. */
  O("self_attn", "o_proj"),
  /** The MLP's gate projection, {@code mlp.gate_proj}. */
  GATE("mlp", "gate_proj"),
  /** The MLP's up projection, {@code mlp.up_proj}. */
  UP("mlp", "up_proj"),
  /** The MLP's down projection, {@code mlp.down_proj}. */
  DOWN("mlp", "down_proj");

  private final String block;
  private final String moduleName;

  LoraTarget(String block, String moduleName) {
    this.block = block;
    this.moduleName = moduleName;
  }

  /** The module's own name, as listed in PEFT's {@code target_modules}, such as {@code q_proj}. */
  public String moduleName() {
    return moduleName;
  }

  /** The enclosing block: {@code self_attn} or {@code mlp}. */
  public String block() {
    return block;
  }

  /** The module's path inside a decoder layer, such as {@code self_attn.q_proj}. */
  public String layerPath() {
    return block + "." + moduleName;
  }

  /** The module's path in a Hugging Face LLaMA model, such as {@code model.layers.5.self_attn.q_proj}. */
  public String modulePath(int layer) {
    return "model.layers." + layer + "." + layerPath();
  }

  /** The target of a module name such as {@code q_proj}, if it is one. */
  public static Optional<LoraTarget> fromModuleName(String name) {
    for (LoraTarget target : values()) {
      if (target.moduleName.equals(name)) {
        return Optional.of(target);
      }
    }
    return Optional.empty();
  }
}
