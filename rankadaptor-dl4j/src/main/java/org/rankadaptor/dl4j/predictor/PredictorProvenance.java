package org.rankadaptor.dl4j.predictor;

import java.util.List;
import java.util.Objects;
import org.rankadaptor.PerformanceModel;

/**
 * What a performance model was made with, as the model reports it: its class, its settings field by field
 * (network shape, ensemble, seed, learning rates, the Reptile schedule of meta-training) and the seeds of
 * the networks it predicts with, and what it has learned from so far. Serialised by Jackson as it is (a
 * run's {@code provenance.json} nests it) and read back equal.
 *
 * @param model the model's simple class name, such as {@code MlpPerformanceModel}
 * @param config the MLP's settings; null for a model that is no {@link MlpPerformanceModel}
 * @param memberSeeds seeds of the ensemble's networks now (initialisation, mini-batch order, bootstrap
 *     samples); empty when unknown
 * @param sourceTasks source tasks of the last meta-training; null when unknown
 * @param targetObservations target-task observations learned since; null when unknown
 * @since 0.1.0
 */
public record PredictorProvenance(
    String model, MlpConfig config, List<Long> memberSeeds, Integer sourceTasks, Long targetObservations) {

  /** The model's class is required; the seeds are copied. */
  public PredictorProvenance {
    Objects.requireNonNull(model, "model");
    memberSeeds = memberSeeds == null ? List.of() : List.copyOf(memberSeeds);
  }

  /**
   * The provenance of any performance model: an {@link MlpPerformanceModel}'s own, otherwise only the
   * class.
   */
  public static PredictorProvenance of(PerformanceModel model) {
    if (model instanceof MlpPerformanceModel mlp) {
      return mlp.provenance();
    }
    return new PredictorProvenance(model.getClass().getSimpleName(), null, List.of(), null, null);
  }
}
