package org.rankadaptor.dl4j.prune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.llama.LayerShape;
import org.rankadaptor.dl4j.llama.LayerWeights;
import org.rankadaptor.dl4j.llama.LlamaBatch;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LlamaWeights;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Depth pruning in the manner of Shortened LLaMA: whole decoder blocks are scored ({@link
 * BlockImportance}) and the lowest-scoring ones removed in one shot, leaving a model with fewer layers.
 * Only blocks outside the protected first {@code keepFirst} and last {@code keepLast} are candidates
 * (the "+" rule; both 0 turns it off).
 *
 * @since 0.1.0
 */
public final class DepthPruner {

  private static final Logger LOG = LoggerFactory.getLogger(DepthPruner.class);

  private DepthPruner() {}

  /**
   * Prunes a model.
   *
   * @param calibration samples (Shortened LLaMA: 10 of 128 tokens)
   * @throws PruningInputException when the protected blocks leave fewer candidates than blocks to remove,
   *     or the calibration is missing or longer than the model's context
   */
  public static DepthPruningResult prune(
      LlamaModel model, CalibrationSet calibration, DepthPruningSettings settings) {
    Nd4jRuntime.ensureInitialized();
    LlamaConfig config = model.config();
    int n = config.nLayers();
    if (calibration == null) {
      throw new PruningInputException("depth pruning needs calibration samples");
    }
    if (calibration.maxLength() > config.maxSeqLen()) {
      throw new PruningInputException(
          "calibration samples of " + calibration.maxLength() + " tokens exceed the model's maxSeqLen "
              + config.maxSeqLen());
    }
    int[] candidates = IntStream.range(settings.keepFirst(), n - settings.keepLast()).toArray();
    if (candidates.length < settings.blocksToRemove() || settings.blocksToRemove() >= n) {
      throw new PruningInputException(
          "cannot remove " + settings.blocksToRemove() + " of " + n + " blocks when the first "
              + settings.keepFirst() + " and last " + settings.keepLast() + " are protected ("
              + candidates.length + " candidates)");
    }
    double[] scores =
        switch (settings.criterion()) {
          case TAYLOR -> taylorScores(model, calibration, candidates);
          case PPL -> perplexityScores(model, calibration, candidates);
        };
    int[] removed =
        Arrays.stream(WidthPruner.lowest(scores, settings.blocksToRemove()))
            .map(i -> candidates[i])
            .toArray();
    LlamaModel pruned = withoutBlocks(model, removed);
    List<ScoredUnit> blockScores = new ArrayList<>();
    List<ScoredUnit> removedScores = new ArrayList<>();
    for (int i = 0; i < candidates.length; i++) {
      ScoredUnit unit = new ScoredUnit(candidates[i], scores[i]);
      blockScores.add(unit);
      if (Arrays.binarySearch(removed, candidates[i]) >= 0) {
        removedScores.add(unit);
      }
    }
    DepthPruningReport report =
        new DepthPruningReport(
            "shortened-llama-depth",
            settings.criterion(),
            settings.keepFirst(),
            settings.keepLast(),
            calibration.summary(),
            ParameterCounts.model(config),
            ParameterCounts.model(pruned.config()),
            blockScores,
            removedScores);
    LOG.info(
        "depth pruning ({}) removed blocks {} of {}: {} -> {} parameters",
        settings.criterion(), Arrays.toString(removed), n, report.parametersBefore(),
        report.parametersAfter());
    return new DepthPruningResult(pruned, report);
  }

  /** Sum over each candidate block's projections of {@code sum |W * g|}. */
  private static double[] taylorScores(LlamaModel model, CalibrationSet calibration, int[] candidates) {
    CalibrationGradients gradients =
        CalibrationGradients.of(
            model, calibration, candidates[0], candidates[candidates.length - 1], false);
    double[] scores = new double[candidates.length];
    for (int i = 0; i < candidates.length; i++) {
      LayerWeights w = model.weights().layers().get(candidates[i]);
      Map<LoraTarget, INDArray> g = gradients.mean().get(candidates[i]);
      for (LoraTarget t : LoraTarget.values()) {
        INDArray product = w.projection(t).mul(g.get(t));
        scores[i] += Transforms.abs(product, false).sumNumber().doubleValue();
        product.close();
      }
    }
    return scores;
  }

  /** Calibration perplexity of the model without each candidate block. */
  private static double[] perplexityScores(
      LlamaModel model, CalibrationSet calibration, int[] candidates) {
    LlamaBatch batch = calibration.batch();
    double[] scores = new double[candidates.length];
    for (int i = 0; i < candidates.length; i++) {
      scores[i] = Math.exp(withoutBlocks(model, new int[] {candidates[i]}).loss(batch, null));
    }
    return scores;
  }

  /** The model without the given blocks (ascending indices); every other array is shared. */
  static LlamaModel withoutBlocks(LlamaModel model, int[] removed) {
    LlamaConfig config = model.config();
    LlamaWeights w = model.weights();
    List<LayerShape> shapes = new ArrayList<>();
    List<LayerWeights> layers = new ArrayList<>();
    for (int l = 0; l < config.nLayers(); l++) {
      if (Arrays.binarySearch(removed, l) < 0) {
        shapes.add(config.layer(l));
        layers.add(w.layers().get(l));
      }
    }
    return new LlamaModel(
        config.withLayers(shapes),
        new LlamaWeights(w.tokenEmbedding(), layers, w.finalNorm(), w.classifier()));
  }
}
