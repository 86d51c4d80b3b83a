package org.rankadaptor.dl4j.recover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.InvalidRankConfigException;
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.llama.AdaLoraAdapters;
import org.rankadaptor.dl4j.llama.LayerShape;
import org.rankadaptor.dl4j.llama.LlamaBatch;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapter;
import org.rankadaptor.dl4j.llama.SvdAdapter;
import org.rankadaptor.dl4j.testing.FiniteDifferences;

/**
 * AdaLoRA's arithmetic on a small float64 model whose layers differ: the gradients of the triplets and of
 * the orthogonality regulariser against finite differences, PEFT's budget schedule against values worked
 * by hand, and a whole recovery that masks down to the budget while the regulariser falls.
 */
class AdaLoraTrainingTest {

  static final LlamaConfig CONFIG = new LlamaConfig(
      12, 19, 1e-5, 10000.0, false, 16,
      List.of(new LayerShape(4, 2, 4, 10), new LayerShape(2, 1, 4, 7), new LayerShape(3, 3, 4, 9)));

  private static final AdaLoraSettings SETTINGS = new AdaLoraSettings(4, 2, 2, 3, 1, 0.85, 0.85, 0.5);

  @BeforeAll
  static void init() {
    Nd4jRuntime.ensureInitialized();
  }

  private static AdaLoraTraining training(int[] ranks, AdaLoraSettings settings, int steps, DataType dtype) {
    return new AdaLoraTraining(CONFIG, ranks, new double[] {16, 16, 16}, EnumSet.allOf(LoraTarget.class), 0.0,
        settings, steps, 5, dtype);
  }

  /** Every trainable tensor filled with values in [-1, 1), lambda included (it starts at 0). */
  private static void randomise(AdaLoraTraining t, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    for (INDArray p : t.parameters()) {
      p.assign(FiniteDifferences.random(random, p.shape()).muli(0.5));
    }
    t.refresh();
  }

  private static LlamaBatch batch() {
    int[][] sequences = {{1, 5, 7, 3, 18, 2, 9}, {1, 4, 11, 0}, {1, 12, 6, 6, 8}};
    boolean[][] mask = new boolean[3][];
    for (int b = 0; b < 3; b++) {
      mask[b] = new boolean[sequences[b].length];
      Arrays.fill(mask[b], true);
    }
    return new LlamaBatch(sequences, mask);
  }

  private static List<INDArray> zeros(List<INDArray> like) {
    List<INDArray> out = new ArrayList<>();
    like.forEach(p -> out.add(p.ulike().assign(0)));
    return out;
  }

  @Test
  void tripletGradientsMatchFiniteDifferences() {
    LlamaModel model = LlamaModel.randomInit(CONFIG, 7, DataType.DOUBLE);
    AdaLoraTraining t = training(new int[] {3, 0, 2}, SETTINGS, 20, DataType.DOUBLE);
    randomise(t, 11);
    LlamaBatch batch = batch();
    List<INDArray> gradients = zeros(t.parameters());
    t.addGradients(model.loraGradients(batch, t.adapters(), 0).gradients(), 0.75, gradients);
    SplittableRandom random = new SplittableRandom(3);
    List<INDArray> parameters = t.parameters();
    assertEquals(3 * 2 * LoraTarget.values().length, parameters.size(), "Q, lambda, P per module of layers 0 and 2");
    for (int i = 0; i < parameters.size(); i++) {
      FiniteDifferences.check("parameter " + i, parameters.get(i), gradients.get(i),
          () -> {
            t.refresh();
            return 0.75 * model.loss(batch, t.adapters());
          }, 2, random);
    }
  }

  @Test
  void regulariserGradientMatchesFiniteDifferences() {
    AdaLoraTraining t = training(new int[] {3, 2, 0}, SETTINGS, 20, DataType.DOUBLE);
    randomise(t, 12);
    List<INDArray> gradients = zeros(t.parameters());
    double value = t.addRegularizer(gradients);
    assertThat(value).isPositive();
    SplittableRandom random = new SplittableRandom(4);
    List<INDArray> parameters = t.parameters();
    for (int i = 0; i < parameters.size(); i++) {
      if (i % 3 == 1) {
        assertThat(gradients.get(i).norm2Number().doubleValue()).as("lambda is not regularised").isZero();
        continue;
      }
      FiniteDifferences.check("parameter " + i, parameters.get(i), gradients.get(i),
          () -> t.addRegularizer(zeros(parameters)), 3, random);
    }
  }

  @Test
  void theRegulariserIsPeftsMeanOfFrobeniusNorms() {
    AdaLoraTraining t = training(new int[] {2, 0, 0}, SETTINGS, 20, DataType.DOUBLE);
    randomise(t, 13);
    double expected = 0;
    List<INDArray> parameters = t.parameters();
    for (int i = 0; i < parameters.size(); i += 3) {
      INDArray q = parameters.get(i);
      INDArray p = parameters.get(i + 2);
      expected += q.mmul(q.transpose()).subi(Nd4j.eye(2)).norm2Number().doubleValue();
      expected += p.transpose().mmul(p).subi(Nd4j.eye(2)).norm2Number().doubleValue();
    }
    expected *= 0.5 / (2 * LoraTarget.values().length);
    assertEquals(expected, t.addRegularizer(zeros(parameters)), 1e-12);
  }

  @Test
  void budgetScheduleFollowsPeftsCubicDecrease() {
    BudgetSchedule s = new BudgetSchedule(100, 40, 2, 3, 12, 2);
    // Warm-up through step tinit = 2.
    for (int step = 0; step <= 2; step++) {
      assertEquals(new BudgetSchedule.Budget(100, false), s.at(step));
    }
    // (100 - 40) * (1 - (t - 2) / 7)^3 + 40, cut to an integer; masked when t % 2 == 0.
    assertEquals(new BudgetSchedule.Budget(77, false), s.at(3)); // 60 * (6/7)^3 + 40 = 77.78
    assertEquals(new BudgetSchedule.Budget(61, true), s.at(4)); // 60 * (5/7)^3 + 40 = 61.87
    assertEquals(new BudgetSchedule.Budget(51, false), s.at(5)); // 60 * (4/7)^3 + 40 = 51.20
    assertEquals(new BudgetSchedule.Budget(40, false), s.at(9)); // T - tfinal: remaining 0
    assertEquals(9, s.finalMaskStep());
    assertEquals(new BudgetSchedule.Budget(40, true), s.at(10));
    assertEquals(new BudgetSchedule.Budget(40, true), s.at(11));
    assertEquals(11, new BudgetSchedule(100, 40, 2, 0, 12, 2).finalMaskStep(), "no final phase: the last step");
  }

  @Test
  void svdAdaptersAreAppliedAsLoraOfTheKeptRank() {
    SplittableRandom random = new SplittableRandom(9);
    INDArray p = FiniteDifferences.random(random, 5, 3);
    INDArray lambda = FiniteDifferences.random(random, 3, 1);
    INDArray q = FiniteDifferences.random(random, 3, 4);
    SvdAdapter svd = new SvdAdapter(p, lambda, q, new boolean[] {true, false, true}, 0.7);
    LoraAdapter lora = svd.toLora();
    assertEquals(2, lora.rank());
    INDArray masked = lambda.dup();
    masked.putScalar(1, 0, 0.0);
    INDArray expected = p.mmul(q.mulColumnVector(masked)).muli(0.7);
    INDArray actual = lora.b().mmul(lora.a()).muli(lora.scaling());
    assertThat(actual.sub(expected).norm2Number().doubleValue()).isLessThan(1e-12);
    assertThat(new SvdAdapter(p, lambda, q, new boolean[3], 0.7).toLora()).as("nothing kept: no adapter").isNull();
  }

  @Test
  void recoveryMasksToTheBudgetAndTheRegulariserFalls() {
    LlamaModel model = LlamaModel.randomInit(CONFIG, 3, DataType.FLOAT);
    List<TrainingExample> examples = new ArrayList<>();
    for (int start = 0; start < 24; start++) {
      int[] tokens = new int[12];
      boolean[] mask = new boolean[12];
      for (int i = 0; i < tokens.length; i++) {
        tokens[i] = (start * 5 + i * 3) % CONFIG.vocabSize();
        mask[i] = i > 0;
      }
      examples.add(new TrainingExample(tokens, mask));
    }
    TrainingData data = TrainingData.of(examples);
    RecoverySettings settings = RecoverySettings.tiny().withMaxSteps(20).withEvalInterval(4).withLearningRate(1e-2);
    AdaLoraRecoveryRunner runner = AdaLoraRecoveryRunner.builder(model, data, data)
        .settings(settings).adaLora(new AdaLoraSettings(6, 3, 2, 6, 2, 0.85, 0.85, 0.5)).build();
    AdaLoraRecovery result = runner.recoverAdaLora(runner.initialRanks(), 17);
    AdaLoraAdapters adapters = result.adapters();
    int modules = 3 * LoraTarget.values().length;
    assertEquals(modules, adapters.moduleCount());
    assertEquals(3L * modules, adapters.keptTriplets(), "masked to target_r 3 per module on average");
    assertThat(adapters.describeRanks()).as("ranks differ between modules").containsPattern(":[^3]");
    List<Long> budgets = result.budgets();
    assertEquals(20, budgets.size());
    assertEquals(6L * modules, budgets.get(0));
    for (int i = 1; i < budgets.size(); i++) {
      assertThat(budgets.get(i)).isLessThanOrEqualTo(budgets.get(i - 1));
    }
    assertEquals(3L * modules, budgets.get(14), "final from 0-based step T - tfinal = 14 on");
    assertThat(result.regularizer().get(19)).isLessThan(result.regularizer().get(0) * 0.9);
    assertThat(result.regularizer().get(19)).isLessThan(result.regularizer().get(10));
    assertThat(result.recovered().log().bestStep()).isGreaterThanOrEqualTo(15);
    // The recovered model applies exactly the kept triplets.
    assertEquals(adapters.keptTriplets(),
        result.recovered().adapters().layer(0).values().stream().mapToInt(LoraAdapter::rank).sum()
            + result.recovered().adapters().layer(1).values().stream().mapToInt(LoraAdapter::rank).sum()
            + result.recovered().adapters().layer(2).values().stream().mapToInt(LoraAdapter::rank).sum());
    // Same seed, same triplets.
    AdaLoraAdapters again = runner.recoverAdaLora(runner.initialRanks(), 17).adapters();
    for (int l = 0; l < 3; l++) {
      for (Map.Entry<LoraTarget, SvdAdapter> e : adapters.layer(l).entrySet()) {
        assertEquals(e.getValue(), again.layer(l).get(e.getKey()));
      }
    }
  }

  @Test
  void badSettingsAreRefusedNamingTheProblem() {
    assertThatThrownBy(() -> new AdaLoraSettings(8, 12, 0, 0, 1, 0.85, 0.85, 0.5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target_r");
    assertThatThrownBy(() -> new AdaLoraSettings(12, 8, 5, 5, 1, 0.85, 0.85, 0.5).checkSchedule(10))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tinit (5) + tfinal (5)")
        .hasMessageContaining("10 steps");
    assertThatThrownBy(() -> new AdaLoraSettings(12, 8, 0, 0, 0, 0.85, 0.85, 0.5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("deltaT");
    assertThatThrownBy(() -> new AdaLoraSettings(12, 8, 0, 0, 1, 1.0, 0.85, 0.5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("beta1");
    LlamaModel model = LlamaModel.randomInit(CONFIG, 3, DataType.FLOAT);
    TrainingData data = TrainingData.of(List.of(new TrainingExample(new int[] {1, 2, 3}, new boolean[] {false, true, true})));
    RecoverySettings settings = RecoverySettings.tiny().withMaxSteps(10);
    assertThatThrownBy(() -> AdaLoraRecoveryRunner.builder(model, data, data).settings(settings)
        .adaLora(new AdaLoraSettings(12, 8, 6, 4, 1, 0.85, 0.85, 0.5)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tinit (6) + tfinal (4)");
    AdaLoraRecoveryRunner runner = AdaLoraRecoveryRunner.builder(model, data, data).settings(settings).build();
    assertThatThrownBy(() -> runner.recover(RankConfig.of(4, 4, 4), 1))
        .isInstanceOf(InvalidRankConfigException.class).hasMessageContaining("target_r 8");
    assertThatThrownBy(() -> runner.recover(RankConfig.of(12, 12), 1))
        .isInstanceOf(InvalidRankConfigException.class).hasMessageContaining("the model has 3");
  }
}
