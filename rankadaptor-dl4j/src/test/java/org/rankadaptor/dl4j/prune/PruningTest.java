package org.rankadaptor.dl4j.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.io.Llama2cTokenizer;
import org.rankadaptor.dl4j.llama.LayerShape;
import org.rankadaptor.dl4j.llama.LayerWeights;
import org.rankadaptor.dl4j.llama.LlamaBatch;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LlamaWeights;
import org.rankadaptor.dl4j.testing.SharedFiles;
import org.slf4j.LoggerFactory;

/**
 * Width and depth pruning of the pretrained stories260K model (dim 64, 5 layers, 8 heads, 4 kv heads,
 * MLP 172, vocab 512), calibrated on the first part of a TinyStories excerpt and measured on the rest.
 */
class PruningTest {

  private static final int FIRST = 1;
  private static final int LAST = 3;

  private static LlamaModel model;
  private static Llama2cTokenizer tokenizer;
  private static String calibrationText;
  private static LlamaBatch heldOut;

  @BeforeAll
  static void load() throws IOException {
    Nd4jRuntime.ensureInitialized();
    model =
        LlamaCheckpoints.fromLlama2c(
            Llama2cCheckpoint.read(SharedFiles.require("data/models/stories260K/stories260K.bin")),
            DataType.FLOAT);
    tokenizer = Llama2cTokenizer.read(SharedFiles.require("data/models/stories260K/tok512.bin"));
    String text =
        Files.readString(SharedFiles.require("data/text/tinystories/TinyStories-valid-excerpt.txt"));
    int split = text.indexOf('\n', text.length() * 6 / 10);
    calibrationText = text.substring(0, split);
    int[] tokens = tokenizer.encode(text.substring(split + 1), true, false);
    List<int[]> windows = new ArrayList<>();
    for (int start = 0; start + 128 <= tokens.length && windows.size() < 16; start += 128) {
      windows.add(Arrays.copyOfRange(tokens, start, start + 128));
    }
    heldOut = LlamaBatch.of(windows.toArray(int[][]::new));
  }

  private static CalibrationSet calibration(long seed) {
    return CalibrationSet.builder(calibrationText, tokenizer)
        .samples(CalibrationSet.DEFAULT_SAMPLES).length(CalibrationSet.WIDTH_SAMPLE_LENGTH).seed(seed).build();
  }

  private static double heldOutPerplexity(LlamaModel m) {
    return Math.exp(m.loss(heldOut, null));
  }

  /** Counts the weights a model actually holds, a tied classifier once. */
  private static long weightsHeld(LlamaModel m) {
    LlamaWeights w = m.weights();
    long total = w.tokenEmbedding().length() + w.finalNorm().length();
    if (w.classifier() != w.tokenEmbedding()) {
      total += w.classifier().length();
    }
    for (LayerWeights l : w.layers()) {
      for (INDArray a :
          List.of(l.attnNorm(), l.wq(), l.wk(), l.wv(), l.wo(), l.ffnNorm(), l.gate(), l.up(), l.down())) {
        total += a.length();
      }
    }
    return total;
  }

  private static long layerWeightsHeld(LayerWeights l) {
    return l.attnNorm().length() + l.wq().length() + l.wk().length() + l.wv().length() + l.wo().length()
        + l.ffnNorm().length() + l.gate().length() + l.up().length() + l.down().length();
  }

  @Test
  void parameterCountMatchesRequestedRatioWithinOneChannelPerLayer() {
    int dim = model.config().dim();
    long channel = 3L * dim;
    for (double ratio : new double[] {0.1, 0.2, 0.3}) {
      for (int[] range : new int[][] {{FIRST, LAST}, {0, 4}}) {
        WidthPruningResult result =
            WidthPruner.prune(
                model,
                null,
                new WidthPruningSettings(Importance.L2, GroupReduction.SUM, range[0], range[1], ratio, 0));
        long before = weightsHeld(model);
        long after = weightsHeld(result.model());
        int pruned = range[1] - range[0] + 1;
        assertEquals(before, result.report().parametersBefore());
        assertEquals(after, result.report().parametersAfter());
        assertTrue(
            Math.abs((before - after) - ratio * before) <= pruned * channel,
            ratio + " of " + before + " removed " + (before - after));
        for (LayerPruning layer : result.report().layers()) {
          LayerWeights w = result.model().weights().layers().get(layer.layer());
          assertEquals(layer.parametersAfter(), layerWeightsHeld(w));
          long projections = layer.parametersBefore() - 2L * dim;
          double target = result.report().layerRatio() * projections;
          long removed = layer.parametersBefore() - layer.parametersAfter();
          assertTrue(Math.abs(removed - target) <= channel, "layer " + layer.layer());
          LayerShape shape = result.model().config().layer(layer.layer());
          assertEquals(4 - layer.removedHeadGroups().size(), shape.nKvHeads());
          assertEquals(2 * shape.nKvHeads(), shape.nHeads());
          assertEquals(172 - layer.removedChannels().size(), shape.hiddenDim());
        }
        for (int l = 0; l < 5; l++) {
          if (l < range[0] || l > range[1]) {
            assertSame(model.weights().layers().get(l), result.model().weights().layers().get(l));
          }
        }
      }
    }
  }

  /**
   * Reference: the original weights with the output-projection columns of the removed heads and the
   * down-projection columns of the removed channels zeroed; nothing else changes.
   */
  private static LlamaModel masked(PruningReport report) {
    List<LayerWeights> layers = new ArrayList<>(model.weights().layers());
    for (LayerPruning p : report.layers()) {
      LayerWeights w = layers.get(p.layer());
      LayerShape s = model.config().layer(p.layer());
      INDArray wo = w.wo().dup();
      INDArray down = w.down().dup();
      for (ScoredUnit group : p.removedHeadGroups()) {
        int from = group.index() * s.groupSize() * s.headDim();
        int to = from + s.groupSize() * s.headDim();
        wo.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to)).assign(0);
      }
      for (ScoredUnit channel : p.removedChannels()) {
        down.getColumn(channel.index()).assign(0);
      }
      layers.set(
          p.layer(),
          new LayerWeights(
              w.attnNorm(), w.wq(), w.wk(), w.wv(), wo, w.ffnNorm(), w.gate(), w.up(), down));
    }
    LlamaWeights original = model.weights();
    return new LlamaModel(
        model.config(),
        new LlamaWeights(original.tokenEmbedding(), layers, original.finalNorm(), original.classifier()));
  }

  @Test
  void rankingAcrossLayersRemovesTheSameUnitsInTotalButUnevenly() {
    WidthPruningSettings blockWise = WidthPruningSettings.llmPruner(FIRST, LAST, 0.3);
    WidthPruningResult even = WidthPruner.prune(model, calibration(5), blockWise);
    WidthPruningResult uneven = WidthPruner.prune(model, calibration(5), blockWise.withRankingAcrossLayers(true));
    int evenHeads = 0;
    int unevenHeads = 0;
    int evenChannels = 0;
    int unevenChannels = 0;
    java.util.Set<Integer> widths = new java.util.HashSet<>();
    for (int l = FIRST; l <= LAST; l++) {
      LayerShape e = even.model().config().layer(l);
      LayerShape u = uneven.model().config().layer(l);
      evenHeads += e.nKvHeads();
      unevenHeads += u.nKvHeads();
      evenChannels += e.hiddenDim();
      unevenChannels += u.hiddenDim();
      widths.add(u.hiddenDim());
      assertTrue(u.nKvHeads() >= 1 && u.hiddenDim() >= 1, "layer " + l + " keeps a head group and a channel");
    }
    assertEquals(evenHeads, unevenHeads);
    assertEquals(evenChannels, unevenChannels);
    assertTrue(widths.size() > 1, "ranked across layers, the MLPs should end at different widths: " + widths);
    assertEquals("llm-pruner-width-global", uneven.report().method());
    // Block-wise removal is one of the ways to remove that many channels; across layers takes the cheapest.
    assertTrue(removedScore(uneven) < removedScore(even),
        "across layers " + removedScore(uneven) + ", block-wise " + removedScore(even));
  }

  private static double removedScore(WidthPruningResult result) {
    return result.report().layers().stream()
        .flatMap(layer -> layer.removedChannels().stream()).mapToDouble(ScoredUnit::score).sum();
  }

  @Test
  void acrossLayersTakesTheLowestScoresAndLeavesEveryLayerOne() {
    double[][] scores = {{0.1, 0.2, 0.9}, {0.05, 0.06}, {0.5, 0.6, 0.7}};
    assertArrayEquals(new int[] {2, 1, 0}, WidthPruner.acrossLayers(scores, 3));
    // Layer 1 would give both of its units, but keeps one; the next lowest elsewhere goes instead.
    assertArrayEquals(new int[] {2, 1, 1}, WidthPruner.acrossLayers(scores, 4));
  }

  @Test
  void prunedModelComputesWhatTheMaskedOriginalComputes() {
    int[][] sequences = {
      Arrays.copyOfRange(heldOut.sequences()[0], 0, 48), Arrays.copyOfRange(heldOut.sequences()[1], 0, 33)
    };
    for (WidthPruningSettings settings :
        List.of(
            new WidthPruningSettings(Importance.ELEMENT2, GroupReduction.SUM, FIRST, LAST, 0.2, 0),
            new WidthPruningSettings(Importance.VECTOR, GroupReduction.MAX, 0, 4, 0.3, 0),
            new WidthPruningSettings(Importance.ELEMENT1, GroupReduction.PROD, 2, 2, 0.05, 0))) {
      WidthPruningResult result = WidthPruner.prune(model, calibration(11), settings);
      assertTrue(result.report().layers().stream().anyMatch(l -> !l.removedHeadGroups().isEmpty()));
      INDArray pruned = result.model().logits(sequences, null);
      INDArray reference = masked(result.report()).logits(sequences, null);
      INDArray unpruned = model.logits(sequences, null);
      for (int b = 0; b < sequences.length; b++) {
        INDArray p = pruned.get(NDArrayIndex.point(b), NDArrayIndex.interval(0, sequences[b].length));
        INDArray r = reference.get(NDArrayIndex.point(b), NDArrayIndex.interval(0, sequences[b].length));
        INDArray u = unpruned.get(NDArrayIndex.point(b), NDArrayIndex.interval(0, sequences[b].length));
        double error = p.sub(r).amaxNumber().doubleValue();
        assertTrue(error < 1e-3, settings + ": pruned vs masked logits differ by " + error);
        assertTrue(p.sub(u).amaxNumber().doubleValue() > 1e-2, "pruning changed nothing");
      }
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  @Test
  void taylorImportanceKeepsHeldOutPerplexityBelowRandomPruning() {
    double base = heldOutPerplexity(model);
    int seeds = 5;
    double[] taylor = new double[seeds];
    double[] random = new double[seeds];
    for (int seed = 0; seed < seeds; seed++) {
      WidthPruningSettings settings = WidthPruningSettings.llmPruner(FIRST, LAST, 0.2);
      taylor[seed] = heldOutPerplexity(WidthPruner.prune(model, calibration(seed), settings).model());
      random[seed] =
          heldOutPerplexity(
              WidthPruner.prune(model, null, settings.withImportance(Importance.RANDOM, seed)).model());
      assertTrue(taylor[seed] > base && random[seed] > base, "pruning lowered perplexity " + base);
    }
    LoggerFactory.getLogger(PruningTest.class)
        .info("held-out perplexity: base {}, Taylor {}, random {}", base, Arrays.toString(taylor),
            Arrays.toString(random));
    assertTrue(
        median(taylor) < median(random),
        "Taylor " + Arrays.toString(taylor) + " vs random " + Arrays.toString(random) + ", base " + base);
  }

  /**
   * Scores recomputed here for MLP channels: the L2 norms, or the sums of |W*g| (with {@code fisher}
   * null) or |W*g - 0.5*W*F*W| over each channel's gate row, up row and down column.
   */
  private static double[] channelScores(
      Importance importance, LayerWeights w, LayerWeights g, LayerWeights fisher) {
    int hidden = (int) w.gate().rows();
    double[] scores = new double[hidden];
    for (int c = 0; c < hidden; c++) {
      INDArray[] lines = {w.gate().getRow(c), w.up().getRow(c), w.down().getColumn(c)};
      for (int m = 0; m < 3; m++) {
        if (importance == Importance.L2) {
          scores[c] += lines[m].norm2Number().doubleValue();
          continue;
        }
        INDArray grad = m == 0 ? g.gate().getRow(c) : m == 1 ? g.up().getRow(c) : g.down().getColumn(c);
        INDArray taylor = lines[m].mul(grad);
        if (fisher != null) {
          INDArray f =
              m == 0 ? fisher.gate().getRow(c) : m == 1 ? fisher.up().getRow(c) : fisher.down().getColumn(c);
          taylor.subi(lines[m].mul(f).mul(lines[m]).mul(0.5));
        }
        scores[c] += taylor.norm1Number().doubleValue();
      }
    }
    return scores;
  }

  @Test
  void removedChannelsAreTheLowestByAnIndependentScore() {
    CalibrationSet calibration = calibration(5);
    LayerWeights gradient = model.fullWeightGradients(calibration.batch()).gradients().layers().get(2);
    INDArray[] fisher = new INDArray[3];
    for (int j = 0; j < calibration.size(); j++) {
      LayerWeights gj =
          model.fullWeightGradients(LlamaBatch.of(new int[][] {calibration.sample(j)}))
              .gradients().layers().get(2);
      INDArray[] parts = {gj.gate(), gj.up(), gj.down()};
      for (int m = 0; m < 3; m++) {
        INDArray square = parts[m].mul(parts[m]).div(calibration.size());
        fisher[m] = fisher[m] == null ? square : fisher[m].add(square);
      }
    }
    LayerWeights fisherWeights =
        new LayerWeights(null, null, null, null, null, null, fisher[0], fisher[1], fisher[2]);
    for (Importance importance : List.of(Importance.L2, Importance.ELEMENT1, Importance.ELEMENT2)) {
      WidthPruningResult result =
          WidthPruner.prune(
              model, calibration, new WidthPruningSettings(importance, GroupReduction.SUM, 2, 2, 0.1, 0));
      LayerPruning layer = result.report().layers().get(0);
      double[] expected =
          channelScores(
              importance, model.weights().layers().get(2), gradient,
              importance == Importance.ELEMENT2 ? fisherWeights : null);
      Set<Integer> removed = new HashSet<>();
      double worstRemoved = Double.NEGATIVE_INFINITY;
      for (ScoredUnit unit : layer.removedChannels()) {
        assertEquals(
            expected[unit.index()], unit.score(), 1e-3 * Math.abs(expected[unit.index()]) + 1e-9,
            importance + " channel " + unit.index());
        removed.add(unit.index());
        worstRemoved = Math.max(worstRemoved, expected[unit.index()]);
      }
      assertTrue(!removed.isEmpty());
      for (int c = 0; c < expected.length; c++) {
        if (!removed.contains(c)) {
          assertTrue(expected[c] >= worstRemoved * (1 - 1e-4), importance + " kept channel " + c);
        }
      }
    }
  }

  @Test
  void reportRoundTripsThroughJson(@TempDir Path dir) throws IOException {
    PruningReport report =
        WidthPruner.prune(model, calibration(3), WidthPruningSettings.llmPruner(FIRST, LAST, 0.2)).report();
    assertEquals("llm-pruner-width", report.method());
    assertEquals(calibration(3).fingerprint(), report.calibration().fingerprint());
    assertTrue(!calibration(3).fingerprint().equals(calibration(4).fingerprint()));
    Path file = dir.resolve("pruning.json");
    report.writeJson(file);
    assertEquals(report, PruningReport.fromJson(Files.readString(file)));
    assertTrue(Files.readString(file).contains("\"removedHeadGroups\""));

    DepthPruningReport depth =
        DepthPruner.prune(model, calibration(3), new DepthPruningSettings(BlockImportance.TAYLOR, 1, 1, 1))
            .report();
    assertEquals(depth, DepthPruningReport.fromJson(depth.toJson()));
  }

  @Test
  void badRequestsAreRefusedNamingTheValue() {
    for (double ratio : new double[] {0, 1, -0.1, 1.5, Double.NaN}) {
      PruningInputException e =
          assertThrows(PruningInputException.class, () -> WidthPruningSettings.llmPruner(1, 3, ratio));
      assertTrue(e.getMessage().contains(String.valueOf(ratio)), e.getMessage());
    }
    PruningInputException range =
        assertThrows(
            PruningInputException.class,
            () -> WidthPruner.prune(model, calibration(0), WidthPruningSettings.llmPruner(3, 7, 0.2)));
    assertTrue(range.getMessage().contains("3..7") && range.getMessage().contains("0..4"), range.getMessage());
    assertThrows(PruningInputException.class, () -> WidthPruningSettings.llmPruner(-1, 2, 0.2));
    PruningInputException tooMuch =
        assertThrows(
            PruningInputException.class,
            () -> WidthPruner.prune(model, null, WidthPruningSettings.llmPruner(2, 2, 0.5).withImportance(Importance.L2, 0)));
    assertTrue(tooMuch.getMessage().contains("0.5"), tooMuch.getMessage());
    PruningInputException shortText =
        assertThrows(
            PruningInputException.class,
            () -> CalibrationSet.builder("Once upon a time.", tokenizer).samples(10).length(64).seed(0).build());
    assertTrue(shortText.getMessage().contains("64"), shortText.getMessage());
    assertThrows(
        PruningInputException.class,
        () -> WidthPruner.prune(model, null, WidthPruningSettings.llmPruner(1, 3, 0.2)));
    PruningInputException plus =
        assertThrows(
            PruningInputException.class,
            () -> DepthPruner.prune(model, calibration(0), DepthPruningSettings.plus(BlockImportance.TAYLOR, 1)));
    assertTrue(plus.getMessage().contains("first 4 and last 2"), plus.getMessage());
    assertThrows(
        PruningInputException.class, () -> new DepthPruningSettings(BlockImportance.PPL, 0, 0, 0));
  }

  @Test
  void depthPruningRemovesExactlyTheReportedLowestCandidates() {
    CalibrationSet calibration =
        CalibrationSet.builder(calibrationText, tokenizer)
            .samples(CalibrationSet.DEFAULT_SAMPLES).length(CalibrationSet.DEPTH_SAMPLE_LENGTH).seed(7).build();
    for (DepthPruningSettings settings :
        List.of(
            new DepthPruningSettings(BlockImportance.TAYLOR, 2, 1, 1),
            new DepthPruningSettings(BlockImportance.PPL, 2, 1, 1),
            new DepthPruningSettings(BlockImportance.PPL, 1, 2, 1),
            new DepthPruningSettings(BlockImportance.TAYLOR, 3, 0, 0))) {
      DepthPruningResult result = DepthPruner.prune(model, calibration, settings);
      DepthPruningReport report = result.report();
      int[] candidates = report.blockScores().stream().mapToInt(ScoredUnit::index).toArray();
      int[] expectedCandidates =
          java.util.stream.IntStream.range(settings.keepFirst(), 5 - settings.keepLast()).toArray();
      assertArrayEquals(expectedCandidates, candidates, settings.toString());
      List<Integer> removed = report.removedBlocks().stream().map(ScoredUnit::index).toList();
      assertEquals(settings.blocksToRemove(), removed.size());
      double worstRemoved =
          report.removedBlocks().stream().mapToDouble(ScoredUnit::score).max().orElseThrow();
      for (ScoredUnit block : report.blockScores()) {
        if (!removed.contains(block.index())) {
          assertTrue(block.score() >= worstRemoved, settings + ": kept block " + block.index());
        }
      }
      // The pruned model holds exactly the original's other blocks, in order.
      List<LayerWeights> kept = new ArrayList<>();
      for (int l = 0; l < 5; l++) {
        if (!removed.contains(l)) {
          kept.add(model.weights().layers().get(l));
        }
      }
      assertEquals(kept.size(), result.model().config().nLayers());
      for (int i = 0; i < kept.size(); i++) {
        assertSame(kept.get(i), result.model().weights().layers().get(i));
      }
      assertEquals(weightsHeld(result.model()), report.parametersAfter());
      if (settings.criterion() == BlockImportance.PPL) {
        // Each reported score is the calibration perplexity with that block alone removed.
        for (ScoredUnit block : report.blockScores()) {
          List<LayerWeights> without = new ArrayList<>(model.weights().layers());
          without.remove(block.index());
          LlamaWeights w = model.weights();
          LlamaModel m =
              new LlamaModel(
                  model.config().withLayers(java.util.Collections.nCopies(4, model.config().layer(0))),
                  new LlamaWeights(w.tokenEmbedding(), without, w.finalNorm(), w.classifier()));
          assertEquals(Math.exp(m.loss(calibration.batch(), null)), block.score(), 1e-3 * block.score());
        }
      }
    }
  }

  @Test
  void plusRuleProtectsTheFirstFourAndLastTwoBlocks() {
    LlamaModel deep =
        LlamaModel.randomInit(LlamaConfig.uniform(32, 8, 4, 2, 48, 512, 128, true), 3, DataType.FLOAT);
    CalibrationSet calibration = calibration(2);
    DepthPruningResult two = DepthPruner.prune(deep, calibration, DepthPruningSettings.plus(BlockImportance.TAYLOR, 2));
    assertEquals(List.of(4, 5), two.report().removedBlocks().stream().map(ScoredUnit::index).toList());
    assertEquals(6, two.model().config().nLayers());
    DepthPruningResult one = DepthPruner.prune(deep, calibration, DepthPruningSettings.plus(BlockImportance.PPL, 1));
    int removed = one.report().removedBlocks().get(0).index();
    assertTrue(removed == 4 || removed == 5, "removed " + removed);
    assertThrows(
        PruningInputException.class,
        () -> DepthPruner.prune(deep, calibration, DepthPruningSettings.plus(BlockImportance.PPL, 3)));
  }

  @Test
  void layerRatioReproducesThePapersFiguresForLlama7b() {
    LlamaConfig llama7b = LlamaConfig.uniform(4096, 32, 32, 32, 11008, 32000, 2048, false);
    double[] global = {0.20, 0.25, 0.30, 0.50};
    double[] paper = {0.25, 0.32, 0.38, 0.635};
    for (int i = 0; i < global.length; i++) {
      double layer = WidthPruner.layerRatio(llama7b, WidthPruningSettings.llmPruner(4, 29, global[i]));
      assertEquals(paper[i], layer, 0.01, "global " + global[i]);
    }
  }

  @Test
  void aLayerShareIsTheInverseOfTheLayerRatio() {
    LlamaConfig llama7b = LlamaConfig.uniform(4096, 32, 32, 32, 11008, 32000, 2048, false);
    for (double share : new double[] {0.2, 0.25, 0.3, 0.5}) {
      double global = WidthPruner.globalRatioForLayerShare(llama7b, 4, 29, share);
      assertEquals(share, WidthPruner.layerRatio(llama7b, WidthPruningSettings.llmPruner(4, 29, global)), 1e-12);
    }
    // LLaMA-7B's 20 % global ratio is a 25 % share of layers 4..29 (see the paper's figures above).
    assertEquals(0.20, WidthPruner.globalRatioForLayerShare(llama7b, 4, 29, 0.25), 0.01);
    assertThrows(PruningInputException.class, () -> WidthPruner.globalRatioForLayerShare(llama7b, 4, 32, 0.2));
    assertThrows(PruningInputException.class, () -> WidthPruner.globalRatioForLayerShare(llama7b, 4, 29, 1.0));
  }
}
