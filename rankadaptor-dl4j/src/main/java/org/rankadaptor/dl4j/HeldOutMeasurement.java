package org.rankadaptor.dl4j;

import java.util.Objects;
import org.rankadaptor.Observation;
import org.rankadaptor.RankConfig;

/**
 * One method's configuration measured on a held-out task after a {@link PrunedModelSearch}.
 *
 * @param method {@link PrunedModelSearch#RANKADAPTOR}, {@link PrunedModelSearch#RANDOM_SEARCH} or a
 *     {@link org.rankadaptor.dl4j.recover.RecoveryBaselines} name
 * @param config the configuration that method chose (or is)
 * @param recoverySeed the seed of the recovery that was measured
 * @param observation the measurement (its task is the held-out task; possibly a failed recovery)
 * @since 0.1.0
 */
public record HeldOutMeasurement(String method, RankConfig config, long recoverySeed, Observation observation) {

  /** Nothing may be missing. */
  public HeldOutMeasurement {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(observation, "observation");
  }
}
