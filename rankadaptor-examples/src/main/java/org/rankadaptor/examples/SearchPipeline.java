package org.rankadaptor.examples;

import java.io.PrintWriter;
import org.rankadaptor.Evaluator;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.PerformanceModel;
import org.rankadaptor.RankSpace;
import org.rankadaptor.dl4j.PrunedModelSearch;
import org.rankadaptor.dl4j.io.Tokenizer;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.predictor.MlpConfig;
import org.rankadaptor.dl4j.predictor.MlpPerformanceModel;
import org.rankadaptor.dl4j.prune.BlockImportance;
import org.rankadaptor.dl4j.prune.CalibrationSet;
import org.rankadaptor.dl4j.prune.DepthPruner;
import org.rankadaptor.dl4j.prune.DepthPruningResult;
import org.rankadaptor.dl4j.prune.DepthPruningSettings;
import org.rankadaptor.dl4j.prune.GroupReduction;
import org.rankadaptor.dl4j.prune.Importance;
import org.rankadaptor.dl4j.prune.WidthPruner;
import org.rankadaptor.dl4j.prune.WidthPruningResult;
import org.rankadaptor.dl4j.prune.WidthPruningSettings;
import org.rankadaptor.dl4j.recover.LoraRecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.dl4j.recover.RecoveryListener;
import org.rankadaptor.dl4j.recover.RecoverySettings;
import org.rankadaptor.dl4j.recover.TrainingData;

/**
 * The chain {@code demo}, {@code run}, {@code experiment} and {@code table} build, in one place: calibrate
 * and prune, the pruned model's LoRA recovery runner, the meta-learned MLP that predicts scores, and the
 * search of the ranks. The commands decide what goes in (which model, text, tasks and options) and what
 * the search records beside it; how each link is made is decided here, so that the commands cannot drift
 * apart. Where a command needs a link made differently ({@code run}'s other importance criteria, calibrated
 * on the recovery tokens), it says why where it does so.
 */
final class SearchPipeline {

  private SearchPipeline() {}

  /** Calibration windows drawn (seeded) from a text: LLM-Pruner's default count, of the given length. */
  static CalibrationSet calibration(String text, Tokenizer tokenizer, int length, long seed) {
    return CalibrationSet.builder(text, tokenizer).samples(CalibrationSet.DEFAULT_SAMPLES).length(length).seed(seed)
        .build();
  }

  /**
   * Width pruning by LLM-Pruner's first-order Taylor importance (element-wise, summed per group), calibrated
   * on windows of {@code calibrationText}.
   *
   * @param ratio the share of the model's parameters removed from layers {@code first..last}
   * @param acrossLayers units ranked across the layers (unequal shares) rather than within each
   */
  static WidthPruningResult widthPrune(LlamaModel original, String calibrationText, Tokenizer tokenizer, int first,
      int last, double ratio, long seed, boolean acrossLayers) {
    CalibrationSet calibration = calibration(calibrationText, tokenizer, CalibrationSet.WIDTH_SAMPLE_LENGTH, seed);
    return WidthPruner.prune(original, calibration,
        new WidthPruningSettings(Importance.ELEMENT1, GroupReduction.SUM, first, last, ratio, seed, acrossLayers));
  }

  /**
   * Depth pruning by Shortened LLaMA's Taylor+ block importance, calibrated on windows of
   * {@code calibrationText}: {@code blocks} blocks removed, none of the first {@code keepFirst} and the last
   * {@code keepLast}.
   */
  static DepthPruningResult depthPrune(LlamaModel original, String calibrationText, Tokenizer tokenizer, int blocks,
      int keepFirst, int keepLast, long seed) {
    CalibrationSet calibration = calibration(calibrationText, tokenizer, CalibrationSet.DEPTH_SAMPLE_LENGTH, seed);
    return DepthPruner.prune(original, calibration,
        new DepthPruningSettings(BlockImportance.TAYLOR, blocks, keepFirst, keepLast));
  }

  /** The LoRA recovery runner of a pruned model on the split recovery data. */
  static LoraRecoveryRunner runner(LlamaModel pruned, TrainingData.Split split, RecoverySettings settings,
      RecoveryListener... listeners) {
    LoraRecoveryRunner.Builder b = LoraRecoveryRunner.builder(pruned, split.train(), split.validation())
        .settings(settings);
    for (RecoveryListener listener : listeners) {
      b.listener(listener);
    }
    return b.build();
  }

  /** The paper's MLP ensemble over a space, seeded, meta-learned by Reptile for {@code metaIterations}. */
  static MlpPerformanceModel metaLearnedMlp(RankSpace space, long seed, int metaIterations) {
    MlpConfig mlp = MlpConfig.paper();
    return new MlpPerformanceModel(space, mlp.withSeed(seed)
        .withMeta(metaIterations, mlp.metaInnerSteps(), mlp.metaStepSize()));
  }

  /**
   * The search of a pruned model's ranks with the options every searching command shares: the space, the
   * budget and source configurations of {@code options}, the store, the seed, the performance model, progress
   * printed to {@code err}. The recovery settings reach {@code provenance.json} from the runner itself. The
   * caller adds its sources, baselines, output folder and settings of its own.
   */
  static PrunedModelSearch.Builder search(LlamaModel pruned, LoraRecoveryRunner runner,
      Evaluator<RecoveredModel> target, RankSpace space, SharedOptions.Search options, long seed,
      PerformanceModel performance, ObservationStore store, PrintWriter err) {
    PrunedModelSearch.Builder search = PrunedModelSearch.builder(pruned, runner, target)
        .space(space)
        .sourceConfigurations(options.sourceConfigs)
        .store(store)
        .seed(seed)
        .maxEvaluations(options.evaluations)
        .performanceModel(performance)
        .listener(new SearchConsole.SearchProgress(err));
    return search;
  }
}
