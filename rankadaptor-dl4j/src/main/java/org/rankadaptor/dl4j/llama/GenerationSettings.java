package org.rankadaptor.dl4j.llama;

/**
 * How {@link LlamaGenerator#generate} picks tokens.
 *
 * @param maxNewTokens most tokens to generate
 * @param temperature 0 for greedy decoding, else logits are divided by it before sampling
 * @param topP nucleus size in (0, 1]; 1 samples from the whole distribution
 * @param seed seed of the sampling stream
 * @since 0.1.0
 */
public record GenerationSettings(int maxNewTokens, double temperature, double topP, long seed) {

  /** Validates the settings. */
  public GenerationSettings {
    if (maxNewTokens < 0) {
      throw new IllegalArgumentException("maxNewTokens " + maxNewTokens + " is negative");
    }
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature " + temperature + " must be finite and >= 0");
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("topP " + topP + " outside (0, 1]");
    }
  }

  /** Greedy decoding of up to {@code maxNewTokens} tokens. */
  public static GenerationSettings greedy(int maxNewTokens) {
    return new GenerationSettings(maxNewTokens, 0.0, 1.0, 0L);
  }
}
