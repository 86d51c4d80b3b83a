package org.rankadaptor.dl4j.io;

import java.util.Optional;

/**
 * The linear projections of a LLaMA decoder layer that LoRA adapts, with their Hugging Face module names.
 *
 * @since 0.1.0
 */
public enum LoraTarget {
  /** The attention's query projection. */
  Q_PROJ("self_attn", "q_proj"),
  /** The attention's key projection. */
  K_PROJ("self_attn", "k_proj"),
  /** The attention's value projection. */
  V_PROJ("self_attn", "v_proj"),
  /** The attention's output projection. */
  O_PROJ("self_attn", "o_proj"),
  /** The MLP's gate projection. */
  GATE_PROJ("mlp", "gate_proj"),
  /** The MLP's up projection. */
  UP_PROJ("mlp", "up_proj"),
  /** The MLP's down projection. */
  DOWN_PROJ("mlp", "down_proj");

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

  /** The module's path in a Hugging Face LLaMA model, such as {@code model.layers.5.self_attn.q_proj}. */
  public String modulePath(int layer) {
    return "model.layers." + layer + "." + block + "." + moduleName;
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
