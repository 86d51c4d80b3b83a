package org.rankadaptor.dl4j.prune;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The provenance of a width-pruned model: method, settings, calibration and, per pruned layer, the
 * parameters before and after and which head groups and channels were removed with their scores.
 *
 * @param method always {@code llm-pruner-width}
 * @param importance the criterion
 * @param reduction the group reduction
 * @param globalRatio requested fraction of the model's parameters to remove
 * @param layerRatio fraction of each pruned layer's projection weights targeted
 * @param firstLayer first pruned layer, 0-based
 * @param lastLayer last pruned layer, inclusive
 * @param seed the settings' seed
 * @param calibration the calibration samples, or null for a criterion that needs none
 * @param parametersBefore the model's weights before
 * @param parametersAfter its weights after
 * @param layers one entry per pruned layer
 * @since 0.1.0
 */
public record PruningReport(
    String method,
    Importance importance,
    GroupReduction reduction,
    double globalRatio,
    double layerRatio,
    int firstLayer,
    int lastLayer,
    long seed,
    CalibrationSummary calibration,
    long parametersBefore,
    long parametersAfter,
    List<LayerPruning> layers) {

  /** Freezes the list. */
  public PruningReport {
    layers = List.copyOf(layers);
  }

  /** The report as indented JSON. */
  public String toJson() {
    return ReportJson.write(this);
  }

  /** Writes {@link #toJson()} to a file. */
  public void writeJson(Path file) throws IOException {
    ReportJson.write(this, file);
  }

  /** Reads a report written by {@link #toJson()}. */
  public static PruningReport fromJson(String json) throws IOException {
    return ReportJson.read(json, PruningReport.class);
  }
}
