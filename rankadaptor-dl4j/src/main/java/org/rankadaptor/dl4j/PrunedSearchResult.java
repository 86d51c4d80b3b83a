package org.rankadaptor.dl4j;

import com.google.common.collect.ImmutableMap;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.rankadaptor.Observation;
import org.rankadaptor.RankConfig;
import org.rankadaptor.SearchResult;
import org.rankadaptor.dl4j.recover.RecoveredModel;

/**
 * What {@link PrunedModelSearch#run()} produced.
 *
 * @param search the core search's result: best configuration, trace, stop reason, provenance
 * @param recovered the pruned model recovered with the best configuration (its adapters are the ones
 *     written to {@code adapters}); its training log is empty when the adapters were read back from a
 *     previous run's output folder
 * @param baselines target-task observations of the comparison configurations, by name ({@code uniform}:
 *     rank 8 everywhere, {@code none}: no adapters, {@code lora*}); empty when baselines were turned off
 * @param randomSearch random search with the same budget, when asked for
 * @param paperSearch the paper's protocol with the same budget, when asked for
 * @param heldOut every method's configuration measured on the held-out tasks, by recovery seed; empty
 *     without held-out tasks
 * @param sourceObservations successful source-task observations the meta-learning could draw on
 * @param recoveries recoveries this call ran (meta-learning data, search, baselines and the final model);
 *     0 when everything came from the store and the output folder
 * @param adapters the PEFT adapter folder, when an output folder was given and the best configuration has
 *     adapters
 * @param mergedModel the Hugging Face folder of the merged model, when asked for
 * @param resultFile the result JSON, when an output folder was given
 * @param provenanceFile the provenance JSON, when an output folder was given
 * @since 0.1.0
 */
public record PrunedSearchResult(
    SearchResult search,
    RecoveredModel recovered,
    Map<String, Observation> baselines,
    Optional<SearchResult> randomSearch,
    Optional<SearchResult> paperSearch,
    List<HeldOutMeasurement> heldOut,
    int sourceObservations,
    int recoveries,
    Optional<Path> adapters,
    Optional<Path> mergedModel,
    Optional<Path> resultFile,
    Optional<Path> provenanceFile) {

  /** Copies the baselines and the held-out measurements. */
  public PrunedSearchResult {
    baselines = ImmutableMap.copyOf(baselines);
    heldOut = List.copyOf(heldOut);
  }

  /** The chosen configuration. */
  public RankConfig best() {
    return search.best();
  }
}
