package org.rankadaptor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Predicts the score a rank configuration will reach after recovery, so that the search can rank many
 * candidates and recover only the most promising for real.
 *
 * <p>The search uses a model in two phases: once, {@link #metaLearn} on observations of other tasks
 * (the offline meta-learning of the paper); then, for each real evaluation on the target task,
 * {@link #update} with the new observation (online incremental learning), and {@link #predict} on each
 * iteration's candidates. Implementations must be deterministic for a given seed and sequence of
 * calls: a resumed search replays the same calls and must make the same choices.
 *
 * @since 0.1.0
 */
public interface PerformanceModel {

  /** The space whose configurations this model scores. */
  RankSpace space();

  /**
   * Offline meta-learning: learns a starting point from the successful observations of several source
   * tasks, so that a few observations of a new task suffice. Replaces any earlier state.
   *
   * @param observationsByTask successful observations grouped by source task id
   * @throws IllegalArgumentException if an observation's configuration does not fit {@link #space()}
   *     or its score is not finite; the model is left unchanged
   */
  void metaLearn(Map<String, List<Observation>> observationsByTask);

  /**
   * Online learning: moves the model toward new successful observations of the target task, starting
   * from its current state. Each observation is given once.
   *
   * @throws IllegalArgumentException as for {@link #metaLearn}; the model is left unchanged
   */
  void update(List<Observation> newObservations);

  /**
   * Seeds the model's later random choices (initialisation at the next {@link #metaLearn}, mini-batch
   * order, bootstrap samples) from a search's seed, so that one seed drives every random choice of a
   * search. A model that has learned nothing yet also re-initialises from it. The search calls it
   * once, before meta-learning. Default: nothing, for deterministic models.
   */
  default void reseed(long seed) {}

  /** Predicts the score of each candidate (configurations of {@link #space()}). */
  Predictions predict(List<RankConfig> candidates);

  /** Whether {@link #predict} returns standard deviations. */
  boolean hasUncertainty();

  /** Writes the model, with its configuration and provenance, to a file. */
  void save(Path path) throws IOException;
}
