package org.rankadaptor.dl4j.prune;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The provenance of a depth-pruned model.
 *
 * @param method always {@code shortened-llama-depth}
 * @param criterion how blocks were scored
 * @param keepFirst leading blocks that were protected
 * @param keepLast trailing blocks that were protected
 * @param calibration the calibration samples
 * @param parametersBefore the model's weights before
 * @param parametersAfter its weights after
 * @param blockScores the score of every candidate block (original indices, ascending)
 * @param removedBlocks the removed blocks (original indices, ascending) with their scores
 * @since 0.1.0
 */
public record DepthPruningReport(
    String method,
    BlockImportance criterion,
    int keepFirst,
    int keepLast,
    CalibrationSummary calibration,
    long parametersBefore,
    long parametersAfter,
    List<ScoredUnit> blockScores,
    List<ScoredUnit> removedBlocks) {

  /** Freezes the lists. */
  public DepthPruningReport {
    blockScores = List.copyOf(blockScores);
    removedBlocks = List.copyOf(removedBlocks);
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
  public static DepthPruningReport fromJson(String json) throws IOException {
    return ReportJson.read(json, DepthPruningReport.class);
  }
}
