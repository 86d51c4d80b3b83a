package org.rankadaptor.dl4j.recover;

/**
 * Learning rate of each optimiser step: linear warmup from {@code peak / warmup} to {@code peak} over the
 * first {@code warmup} steps, then a linear or cosine decay to zero at {@code total} steps.
 *
 * <p>Hugging Face's {@code get_linear_schedule_with_warmup} (what alpaca-lora's Trainer uses) gives
 * the rate {@code peak * k / warmup} to step {@code k}, so its first step has rate 0; here step {@code
 * k} (0-based) gets {@code peak * (k + 1) / warmup}, so that no step is wasted. After warmup, step
 * {@code k} gets {@code peak * (total - k) / (total - warmup)} (linear) or {@code peak * 0.5 * (1 +
 * cos(pi * (k - warmup) / (total - warmup)))} (cosine).
 *
 * @param peak the rate after warmup
 * @param warmup steps of warmup; 0 for none
 * @param total steps of the whole run
 * @param decay the shape of the decay after warmup
 * @since 0.1.0
 */
public record LearningRateSchedule(double peak, int warmup, int total, Decay decay) {

  /** Shape of the decay after warmup. */
  public enum Decay {
    /** Linear warm-up, then linear decay to zero (Hugging Face's default, as LLM-Pruner trains). */
    LINEAR,
    /** Linear warm-up, then cosine decay to zero. */
    COSINE,
    /** The peak rate until the end. */
    CONSTANT
  }

  /** Validates the schedule. */
  public LearningRateSchedule {
    if (!(peak > 0) || !Double.isFinite(peak)) {
      throw new IllegalArgumentException("peak learning rate must be positive and finite, got " + peak);
    }
    if (warmup < 0 || total < 1) {
      throw new IllegalArgumentException("warmup must be >= 0 and total >= 1, got " + warmup + " and " + total);
    }
    if (decay == null) {
      throw new IllegalArgumentException("decay must not be null");
    }
  }

  /** Rate of step {@code step} (0-based). */
  public double rate(int step) {
    if (step < warmup) {
      return peak * (step + 1) / warmup;
    }
    if (decay == Decay.CONSTANT || total <= warmup) {
      return peak;
    }
    double progress = Math.min(1.0, (double) (step - warmup) / (total - warmup));
    return switch (decay) {
      case LINEAR -> peak * (1 - progress);
      case COSINE -> peak * 0.5 * (1 + Math.cos(Math.PI * progress));
      case CONSTANT -> peak;
    };
  }
}
