package org.rankadaptor.dl4j.prune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.llama.LayerShape;
import org.rankadaptor.dl4j.llama.LayerWeights;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LlamaWeights;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Structured width pruning in the manner of LLM-Pruner: in each layer of a range, whole attention head
 * groups and whole MLP channels are removed together with every weight coupled to them, so the result is
 * a smaller dense model.
 *
 * <p><b>Coupled units.</b> An MLP channel is a row of the gate and up projections and the matching
 * column of the down projection. An attention unit is one key/value head together with the query heads
 * that share it (grouped-query attention): its rows of the key and value projections, its query heads'
 * rows of the query projection and their columns of the output projection. Removing a query head alone
 * would leave its key/value head serving a different number of query heads than its neighbours, which
 * the architecture (a fixed {@code nHeads / nKvHeads} per layer) cannot express; removing a key/value
 * head alone would orphan its query heads. So with {@code nKvHeads < nHeads} the unit is a key/value
 * group, and with {@code nKvHeads == nHeads} it is one head, as in LLM-Pruner on LLaMA.
 *
 * <p><b>Ratios.</b> As in the paper, only layers {@code firstLayer..lastLayer} are pruned and each of
 * them loses the same share of its projection weights. A global ratio {@code r} of the whole model's
 * parameters {@code P} (embedding, classifier when untied, norms and all layers) translates into the
 * layer ratio {@code r_layer = r * P / R}, where {@code R} is the projection weights of the pruned
 * layers. For LLaMA-7B and layers 4..29 this gives 25/32/38/63.5 % for 20/25/30/50 % global. Within a
 * layer, {@code round(r_layer * nKvHeads)} head groups go and the MLP loses the number of channels that
 * brings the layer's loss closest to {@code r_layer} of its projections (within half a channel), unless
 * a limit binds: a layer always keeps at least one head group and one channel, and a ratio that cannot
 * be met under that limit is refused.
 *
 * <p><b>Importance.</b> See {@link Importance} and {@link GroupReduction}. Lowest-scoring units go
 * first; ties go to the lower index.
 *
 * @since 0.1.0
 */
public final class WidthPruner {

  private static final Logger LOG = LoggerFactory.getLogger(WidthPruner.class);

  /** How many head groups and MLP channels one layer loses. */
  record LayerPlan(int headGroups, int channels) {}

  /** A matrix a unit spans: its rows (or columns when {@code columns}), {@code width} per unit. */
  private record Member(LoraTarget target, boolean columns, int width) {}

  /** Ranked across layers, a layer keeps at least 1/this of its head groups and of its channels. */
  static final int MIN_KEPT_FRACTION_DENOMINATOR = 8;

  private WidthPruner() {}

  /**
   * Prunes a model.
   *
   * @param calibration samples for the gradient-based criteria; may be null for {@link Importance#L2}
   *     and {@link Importance#RANDOM}
   * @throws PruningInputException when the layer range lies outside the model, the ratio cannot be met,
   *     calibration is missing or longer than the model's context
   */
  public static WidthPruningResult prune(
      LlamaModel model, CalibrationSet calibration, WidthPruningSettings settings) {
    Nd4jRuntime.ensureInitialized();
    LlamaConfig config = model.config();
    if (settings.lastLayer() >= config.nLayers()) {
      throw new PruningInputException(
          "layer range " + settings.firstLayer() + ".." + settings.lastLayer()
              + " is outside the model's layers 0.." + (config.nLayers() - 1));
    }
    if (settings.importance().needsGradients()) {
      if (calibration == null) {
        throw new PruningInputException(settings.importance() + " importance needs calibration samples");
      }
      if (calibration.maxLength() > config.maxSeqLen()) {
        throw new PruningInputException(
            "calibration samples of " + calibration.maxLength() + " tokens exceed the model's maxSeqLen "
                + config.maxSeqLen());
      }
    }
    double layerRatio = layerRatio(config, settings);
    CalibrationGradients gradients =
        settings.importance().needsGradients()
            ? CalibrationGradients.of(
                model, calibration, settings.firstLayer(), settings.lastLayer(),
                settings.importance() == Importance.ELEMENT2)
            : null;

    SplittableRandom random = new SplittableRandom(settings.seed());
    int dim = config.dim();
    List<LayerShape> shapes = new ArrayList<>(config.layers());
    List<LayerWeights> layers = new ArrayList<>(model.weights().layers());
    List<LayerPruning> reports = new ArrayList<>();
    int first = settings.firstLayer();
    int count = settings.lastLayer() - first + 1;
    double[][] groupScores = new double[count][];
    double[][] channelScores = new double[count][];
    LayerPlan[] plans = new LayerPlan[count];
    for (int l = first; l <= settings.lastLayer(); l++) {
      LayerShape s = config.layer(l);
      plans[l - first] = plan(dim, s, layerRatio);
      if (settings.importance() == Importance.RANDOM) {
        groupScores[l - first] = random.doubles(s.nKvHeads()).toArray();
        channelScores[l - first] = random.doubles(s.hiddenDim()).toArray();
      } else {
        Map<LoraTarget, INDArray> g = gradients == null ? null : gradients.mean().get(l);
        Map<LoraTarget, INDArray> f = gradients == null ? null : gradients.fisher().get(l);
        int gs = s.groupSize() * s.headDim();
        List<Member> attention =
            List.of(
                new Member(LoraTarget.Q, false, gs),
                new Member(LoraTarget.K, false, s.headDim()),
                new Member(LoraTarget.V, false, s.headDim()),
                new Member(LoraTarget.O, true, gs));
        List<Member> mlp =
            List.of(
                new Member(LoraTarget.GATE, false, 1),
                new Member(LoraTarget.UP, false, 1),
                new Member(LoraTarget.DOWN, true, 1));
        groupScores[l - first] = unitScores(settings, layers.get(l), g, f, attention, s.nKvHeads());
        channelScores[l - first] = unitScores(settings, layers.get(l), g, f, mlp, s.hiddenDim());
      }
    }
    if (settings.rankedAcrossLayers()) {
      // The same totals as block-wise pruning, shared out by importance across the layers.
      int[] groups = acrossLayers(groupScores, java.util.Arrays.stream(plans).mapToInt(LayerPlan::headGroups).sum());
      int[] channels = acrossLayers(channelScores, java.util.Arrays.stream(plans).mapToInt(LayerPlan::channels).sum());
      for (int i = 0; i < count; i++) {
        plans[i] = new LayerPlan(groups[i], channels[i]);
      }
    }
    for (int l = first; l <= settings.lastLayer(); l++) {
      LayerShape s = config.layer(l);
      LayerWeights w = layers.get(l);
      LayerPlan plan = plans[l - first];
      int[] removedGroups = lowest(groupScores[l - first], plan.headGroups());
      int[] removedChannels = lowest(channelScores[l - first], plan.channels());
      LayerShape pruned =
          new LayerShape(
              s.nHeads() - removedGroups.length * s.groupSize(),
              s.nKvHeads() - removedGroups.length,
              s.headDim(),
              s.hiddenDim() - removedChannels.length);
      layers.set(l, slice(w, s, removedGroups, removedChannels));
      shapes.set(l, pruned);
      reports.add(
          new LayerPruning(
              l,
              ParameterCounts.layer(dim, s),
              ParameterCounts.layer(dim, pruned),
              s.groupSize(),
              scored(removedGroups, groupScores[l - first]),
              scored(removedChannels, channelScores[l - first])));
    }
    LlamaConfig prunedConfig = config.withLayers(shapes);
    LlamaWeights original = model.weights();
    LlamaModel result =
        new LlamaModel(
            prunedConfig,
            new LlamaWeights(
                original.tokenEmbedding(), layers, original.finalNorm(), original.classifier()));
    PruningReport report =
        new PruningReport(
            settings.rankedAcrossLayers() ? "llm-pruner-width-global" : "llm-pruner-width",
            settings.importance(),
            settings.reduction(),
            settings.globalRatio(),
            layerRatio,
            settings.firstLayer(),
            settings.lastLayer(),
            settings.seed(),
            settings.importance().needsGradients() ? calibration.summary() : null,
            ParameterCounts.model(config),
            ParameterCounts.model(prunedConfig),
            reports);
    LOG.info(
        "width pruning ({}, {}) of layers {}..{}: {} -> {} parameters (target ratio {}, reached {})",
        settings.importance(), settings.reduction(), settings.firstLayer(), settings.lastLayer(),
        report.parametersBefore(), report.parametersAfter(), settings.globalRatio(),
        String.format("%.4f", 1 - (double) report.parametersAfter() / report.parametersBefore()));
    return new WidthPruningResult(result, report);
  }

  /**
   * The global ratio at which each of layers {@code firstLayer..lastLayer} loses {@code layerShare} of its
   * projection weights: the inverse of {@code r * P / R}. For settings named by how much of the pruned
   * layers goes rather than how much of the model (a small model whose pruned range holds little of its
   * weights cannot lose a large global share).
   *
   * @throws PruningInputException when the share is outside (0, 1) or the range outside the model
   */
  public static double globalRatioForLayerShare(LlamaConfig config, int firstLayer, int lastLayer, double layerShare) {
    if (!(layerShare > 0 && layerShare < 1)) {
      throw new PruningInputException("layer share must be in (0, 1), got " + layerShare);
    }
    if (firstLayer < 0 || lastLayer < firstLayer || lastLayer >= config.nLayers()) {
      throw new PruningInputException("layer range " + firstLayer + ".." + lastLayer
          + " is not within the model's layers 0.." + (config.nLayers() - 1));
    }
    long prunable = 0;
    for (int l = firstLayer; l <= lastLayer; l++) {
      prunable += ParameterCounts.projections(config.dim(), config.layer(l));
    }
    return layerShare * prunable / ParameterCounts.model(config);
  }

  /**
   * The share of each pruned layer's projection weights that must go for the global ratio: {@code r * P /
   * R} (see the class documentation).
   */
  static double layerRatio(LlamaConfig config, WidthPruningSettings settings) {
    long prunable = 0;
    int dim = config.dim();
    for (int l = settings.firstLayer(); l <= settings.lastLayer(); l++) {
      LayerShape s = config.layer(l);
      prunable += ParameterCounts.projections(dim, s);
    }
    double ratio = settings.globalRatio() * ParameterCounts.model(config) / prunable;
    for (int l = settings.firstLayer(); l <= settings.lastLayer(); l++) {
      LayerShape s = config.layer(l);
      long removable =
          (s.nKvHeads() - 1L) * ParameterCounts.headGroup(dim, s)
              + (s.hiddenDim() - 1L) * ParameterCounts.channel(dim);
      if (ratio * ParameterCounts.projections(dim, s) > removable) {
        throw new PruningInputException(
            String.format(
                "global ratio %s needs layers %d..%d to lose %.1f %% of their projection weights, but"
                    + " layer %d can lose at most %.1f %% while keeping one head group and one channel",
                settings.globalRatio(), settings.firstLayer(), settings.lastLayer(), 100 * ratio, l,
                100.0 * removable / ParameterCounts.projections(dim, s)));
      }
    }
    return ratio;
  }

  /** Head groups and channels to remove from a layer. */
  static LayerPlan plan(int dim, LayerShape s, double layerRatio) {
    long target = Math.round(layerRatio * ParameterCounts.projections(dim, s));
    long perGroup = ParameterCounts.headGroup(dim, s);
    long perChannel = ParameterCounts.channel(dim);
    int groups = (int) Math.min(s.nKvHeads() - 1L, Math.round(layerRatio * s.nKvHeads()));
    while (true) {
      long rest = target - groups * perGroup;
      int channels =
          (int) Math.max(0, Math.min(s.hiddenDim() - 1L, Math.round((double) rest / perChannel)));
      // When the MLP cannot absorb the rest, another head group goes.
      if (rest - channels * perChannel > perChannel && groups < s.nKvHeads() - 1) {
        groups++;
        continue;
      }
      return new LayerPlan(groups, channels);
    }
  }

  /**
   * How many units each layer loses when the {@code total} least important units of all layers go: the
   * lowest scores across layers, ties broken by layer then index, each layer keeping at least an eighth of
   * its units (and at least one), so that no layer collapses to a width no adapter can use.
   */
  static int[] acrossLayers(double[][] scores, int total) {
    record Unit(int layer, int index, double score) {}
    List<Unit> units = new ArrayList<>();
    for (int l = 0; l < scores.length; l++) {
      for (int i = 0; i < scores[l].length; i++) {
        units.add(new Unit(l, i, scores[l][i]));
      }
    }
    units.sort(java.util.Comparator.comparingDouble(Unit::score).thenComparingInt(Unit::layer)
        .thenComparingInt(Unit::index));
    int[] removed = new int[scores.length];
    int taken = 0;
    for (Unit u : units) {
      if (taken == total) {
        break;
      }
      int width = scores[u.layer()].length;
      int keep = Math.max(1, (width + MIN_KEPT_FRACTION_DENOMINATOR - 1) / MIN_KEPT_FRACTION_DENOMINATOR);
      if (removed[u.layer()] < width - keep) {
        removed[u.layer()]++;
        taken++;
      }
    }
    return removed;
  }

  /** Scores of {@code units} units over their coupled matrices. */
  private static double[] unitScores(
      WidthPruningSettings settings,
      LayerWeights w,
      Map<LoraTarget, INDArray> g,
      Map<LoraTarget, INDArray> fisher,
      List<Member> members,
      int units) {
    double[][] perMember = new double[members.size()][];
    for (int m = 0; m < members.size(); m++) {
      Member member = members.get(m);
      INDArray weight = w.projection(member.target());
      INDArray elements =
          switch (settings.importance()) {
            case ELEMENT1 -> Transforms.abs(weight.mul(g.get(member.target())), false);
            case ELEMENT2 -> {
              INDArray curvature =
                  weight.mul(fisher.get(member.target())).muli(weight).muli(0.5);
              yield Transforms.abs(weight.mul(g.get(member.target())).subi(curvature), false);
            }
            case VECTOR -> weight.mul(g.get(member.target()));
            case L2 -> weight.mul(weight);
            case RANDOM -> throw new IllegalStateException("random scores are drawn per unit");
          };
      INDArray sums = elements.sum(member.columns() ? 0 : 1);
      double[] lines = sums.toDoubleVector();
      elements.close();
      sums.close();
      double[] scores = new double[units];
      for (int u = 0; u < units; u++) {
        double sum = 0;
        for (int i = u * member.width(); i < (u + 1) * member.width(); i++) {
          sum += lines[i];
        }
        scores[u] =
            switch (settings.importance()) {
              case VECTOR -> Math.abs(sum);
              case L2 -> Math.sqrt(sum);
              default -> sum;
            };
      }
      perMember[m] = scores;
    }
    double[] result = new double[units];
    double[] column = new double[members.size()];
    for (int u = 0; u < units; u++) {
      for (int m = 0; m < members.size(); m++) {
        column[m] = perMember[m][u];
      }
      result[u] = settings.reduction().reduce(column);
    }
    return result;
  }

  /** Indices of the {@code count} lowest scores, ascending by index; ties go to the lower index. */
  static int[] lowest(double[] scores, int count) {
    return IntStream.range(0, scores.length)
        .boxed()
        .sorted(Comparator.<Integer>comparingDouble(i -> scores[i]).thenComparingInt(i -> i))
        .limit(count)
        .mapToInt(Integer::intValue)
        .sorted()
        .toArray();
  }

  private static List<ScoredUnit> scored(int[] indices, double[] scores) {
    return Arrays.stream(indices).mapToObj(i -> new ScoredUnit(i, scores[i])).toList();
  }

  /** The layer's weights without the removed head groups and channels. */
  private static LayerWeights slice(
      LayerWeights w, LayerShape s, int[] removedGroups, int[] removedChannels) {
    int hd = s.headDim();
    int[] keptGroups = complement(s.nKvHeads(), removedGroups);
    int[] kvRows = expand(keptGroups, hd);
    int[] keptHeads = expand(keptGroups, s.groupSize());
    int[] qRows = expand(keptHeads, hd);
    int[] keptChannels = complement(s.hiddenDim(), removedChannels);
    return new LayerWeights(
        w.attnNorm(),
        rows(w.wq(), qRows),
        rows(w.wk(), kvRows),
        rows(w.wv(), kvRows),
        columns(w.wo(), qRows),
        w.ffnNorm(),
        rows(w.gate(), keptChannels),
        rows(w.up(), keptChannels),
        columns(w.down(), keptChannels));
  }

  private static int[] complement(int n, int[] removed) {
    boolean[] gone = new boolean[n];
    for (int r : removed) {
      gone[r] = true;
    }
    return IntStream.range(0, n).filter(i -> !gone[i]).toArray();
  }

  /** Each index {@code i} becomes {@code i*width .. i*width + width - 1}. */
  private static int[] expand(int[] indices, int width) {
    return Arrays.stream(indices).flatMap(i -> IntStream.range(i * width, (i + 1) * width)).toArray();
  }

  private static INDArray rows(INDArray matrix, int[] rows) {
    return rows.length == matrix.rows() ? matrix : matrix.getRows(rows).dup('c');
  }

  private static INDArray columns(INDArray matrix, int[] columns) {
    return columns.length == matrix.columns() ? matrix : matrix.getColumns(columns).dup('c');
  }
}
