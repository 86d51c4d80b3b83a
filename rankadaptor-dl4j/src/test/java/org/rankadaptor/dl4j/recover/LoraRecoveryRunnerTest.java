package org.rankadaptor.dl4j.recover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.rankadaptor.Evaluation;
import org.rankadaptor.Evaluator;
import org.rankadaptor.InvalidRankConfigException;
import org.rankadaptor.IterationRecord;
import org.rankadaptor.RankAdaptor;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.RecoveryFailedException;
import org.rankadaptor.SearchResult;
import org.rankadaptor.SearchSpec;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.predictor.BayesianRidgeModel;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.io.Llama2cTokenizer;
import org.rankadaptor.dl4j.io.Tokenizer;
import org.rankadaptor.dl4j.llama.LlamaBatch;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.prune.CalibrationSet;
import org.rankadaptor.dl4j.prune.WidthPruner;
import org.rankadaptor.dl4j.prune.WidthPruningSettings;
import org.rankadaptor.dl4j.testing.SharedFiles;

/**
 * Recovery of stories260K pruned by 20 % (LLM-Pruner width pruning of layers 1..3, first-order Taylor
 * importance calibrated on the first part of the TinyStories excerpt). Training and held-out windows
 * come from disjoint windows of the excerpt.
 */
class LoraRecoveryRunnerTest {

  private static final int WINDOW = 64;

  private static LlamaModel damaged;
  private static TrainingData train;
  private static TrainingData validation;
  private static double damagedLoss;
  private static double pretrainedLoss;
  private static String calibrationText;
  private static Tokenizer tokenizerUsed;
  private static LlamaModel pretrainedModel;

  /** Few steps: the pruned model's loss falls fast, and the suite must stay short on two cores. */
  private static final RecoverySettings SHORT = RecoverySettings.tiny().withMaxSteps(12).withEvalInterval(6);

  @BeforeAll
  static void load() throws IOException {
    Nd4jRuntime.ensureInitialized();
    LlamaModel pretrained =
        LlamaCheckpoints.fromLlama2c(
            Llama2cCheckpoint.read(SharedFiles.require("data/models/stories260K/stories260K.bin")),
            DataType.FLOAT);
    Llama2cTokenizer tokenizer =
        Llama2cTokenizer.read(SharedFiles.require("data/models/stories260K/tok512.bin"));
    String text =
        Files.readString(SharedFiles.require("data/text/tinystories/TinyStories-valid-excerpt.txt"));
    calibrationText = text.substring(0, text.length() / 3);
    damaged = prune(pretrained, tokenizer, calibrationText);
    tokenizerUsed = tokenizer;
    pretrainedModel = pretrained;
    TrainingData.Split split = TextWindows.of(text, tokenizer, WINDOW, WINDOW).split(24, 7);
    train = split.train();
    validation = split.validation();
    damagedLoss = heldOutLoss(damaged, null);
    pretrainedLoss = heldOutLoss(pretrained, null);
  }

  /** The model the tests recover: 20 % of the parameters removed from layers 1..3, as the paper prunes. */
  static LlamaModel prune(LlamaModel model, Tokenizer tokenizer, String calibrationText) {
    CalibrationSet calibration = CalibrationSet.builder(calibrationText, tokenizer)
        .samples(CalibrationSet.DEFAULT_SAMPLES).length(CalibrationSet.WIDTH_SAMPLE_LENGTH).seed(3).build();
    return WidthPruner.prune(model, calibration, WidthPruningSettings.llmPruner(1, 3, 0.2)).model();
  }

  /** Mean next-token loss over the held-out windows, computed here independently of the runner. */
  static double heldOutLoss(LlamaModel model, LoraAdapters adapters) {
    double sum = 0;
    long count = 0;
    for (TrainingExample e : validation.examples()) {
      LlamaBatch batch = new LlamaBatch(new int[][] {e.tokens()}, new boolean[][] {e.lossMask()});
      sum += model.loss(batch, adapters) * batch.targetCount();
      count += batch.targetCount();
    }
    return sum / count;
  }

  private static LoraRecoveryRunner runner(RecoverySettings settings) {
    return LoraRecoveryRunner.builder(damaged, train, validation).settings(settings).build();
  }

  @Test
  void pruningDamagesTheModel() {
    assertThat(validation.size()).isEqualTo(24);
    assertThat(train.size()).isGreaterThan(60);
    assertThat(Math.exp(damagedLoss)).isGreaterThan(Math.exp(pretrainedLoss) * 1.5);
  }

  @Test
  void uniformRank8LowersHeldOutPerplexity() {
    List<RecoveryProgress> progress = new ArrayList<>();
    List<Boolean> bestFlags = new ArrayList<>();
    RecoveryListener listener = new RecoveryListener() {
      @Override
      public void onStep(RecoveryProgress p) {
        progress.add(p);
      }

      @Override
      public void onValidation(TrainingLog.Validation validation, boolean best) {
        bestFlags.add(best);
      }
    };
    RecoveredModel recovered =
        LoraRecoveryRunner.builder(damaged, train, validation).settings(SHORT).listener(listener).build()
            .recover(RankConfig.uniform(5, 8), 1);
    assertRecovered(recovered);
    assertThat(progress).extracting(RecoveryProgress::step).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    assertThat(progress).allMatch(p -> p.totalSteps() == 12 && p.tokensPerSecond() > 0);
    assertThat(progress.get(11).secondsLeft()).isZero();
    assertThat(progress.get(0).learningRate()).isCloseTo(SHORT.learningRate() / SHORT.warmupSteps(), within(1e-12));
    assertThat(bestFlags).hasSize(3).startsWith(true);
  }

  @Test
  void accumulatedMicroBatchesGiveTheGradientOfTheWholeBatch() {
    RecoverySettings oneStep = SHORT.withMaxSteps(1).withEvalInterval(0)
        .withLora(AlphaRule.timesRank(2), 0.0, SHORT.targets());
    RankConfig ranks = RankConfig.of(4, 4, 4, 4, 4);
    TrainingLog.Step accumulated = runner(oneStep.withBatch(8, 2)).recover(ranks, 9).log().steps().get(0);
    TrainingLog.Step whole = runner(oneStep.withBatch(8, 8)).recover(ranks, 9).log().steps().get(0);
    assertThat(accumulated.tokens()).isEqualTo(whole.tokens()).isEqualTo(8 * WINDOW);
    assertThat(accumulated.loss()).isCloseTo(whole.loss(), within(1e-5));
    // B starts at zero, so only B has a gradient, and its norm depends on the weighting of the parts.
    assertThat(accumulated.gradientNorm()).isPositive();
    assertThat(accumulated.gradientNorm()).isCloseTo(whole.gradientNorm(), within(1e-5 * whole.gradientNorm()));
  }

  @Test
  void loraStarRanksLowerHeldOutPerplexity() {
    RankConfig loraStar = RecoveryBaselines.loraStar(RankSpace.builder(5).build());
    assertThat(loraStar.toArray()).containsExactly(4, 4, 6, 10, 12);
    RecoveredModel recovered = runner(SHORT).recover(loraStar, 1);
    assertRecovered(recovered);
    assertThat(recovered.adapters().get(0, LoraTarget.Q).rank()).isEqualTo(4);
    assertThat(recovered.adapters().get(4, LoraTarget.DOWN).rank()).isEqualTo(12);
  }

  @Test
  void adaLoraLowersHeldOutPerplexityWithinUniformRank8sTripletBudget() {
    AdaLoraRecoveryRunner runner =
        AdaLoraRecoveryRunner.builder(damaged, train, validation).settings(SHORT).build();
    assertThat(runner.adaLoraSettings()).isEqualTo(AdaLoraSettings.defaults(12));
    AdaLoraRecovery result = runner.recoverAdaLora(runner.initialRanks(), 1);
    RecoveredModel recovered = result.recovered();
    assertThat(heldOutLoss(damaged, recovered.adapters())).as("the log's loss is the kept adapters' loss")
        .isCloseTo(recovered.validationLoss(), within(1e-4));
    // AdaLoRA starts from lambda = 0 and small P and Q: in 12 steps it recovers far less than LoRA does.
    assertThat(Math.exp(recovered.validationLoss())).as("held-out perplexity after AdaLoRA")
        .isLessThan(Math.exp(damagedLoss) * 0.99);
    assertThat(recovered.log().bestStep()).as("only states within the final budget are kept").isEqualTo(12);
    assertThat(result.adapters().keptTriplets()).isEqualTo(8L * 7 * 5);
    assertThat(runner.fingerprint()).isNotEqualTo(runner(SHORT).fingerprint());
  }

  private static void assertRecovered(RecoveredModel recovered) {
    TrainingLog log = recovered.log();
    assertThat(log.initialValidationLoss()).isCloseTo(damagedLoss, within(1e-4));
    double recoveredLoss = heldOutLoss(damaged, recovered.adapters());
    assertThat(recoveredLoss).as("the log's loss is the kept adapters' loss")
        .isCloseTo(recovered.validationLoss(), within(1e-4));
    assertThat(Math.exp(recoveredLoss)).as("held-out perplexity after recovery")
        .isLessThan(Math.exp(damagedLoss) * 0.8);
    assertThat(log.bestStep()).isPositive();
    assertThat(log.steps()).hasSize(SHORT.maxSteps());
    assertThat(log.validations()).extracting(TrainingLog.Validation::step).containsExactly(0, 6, 12);
    assertThat(log.tokensPerSecond()).isPositive();
    assertThat(recovered.provenance().seed()).isEqualTo(1);
    assertThat(recovered.provenance().settings()).containsEntry("ranks", recovered.config().format());
  }

  @Test
  void rankZeroEverywhereTrainsNothingAndKeepsTheModelAsItIs() {
    RecoveredModel none = runner(SHORT).recover(RecoveryBaselines.none(RankSpace.builder(5).build()), 1);
    assertThat(none.log().steps()).isEmpty();
    assertThat(none.adapters().parameterCount()).isZero();
    assertThat(none.validationLoss()).isCloseTo(damagedLoss, within(1e-4));
  }

  @Test
  void theSameSeedGivesBitwiseIdenticalAdapters() {
    RecoverySettings settings = SHORT.withMaxSteps(3).withEvalInterval(0);
    RankConfig ranks = RankConfig.of(2, 0, 4, 8, 2);
    RecoveredModel a = runner(settings).recover(ranks, 11);
    RecoveredModel b = runner(settings).recover(ranks, 11);
    RecoveredModel c = runner(settings).recover(ranks, 12);
    List<float[]> first = values(a.adapters());
    assertThat(first).hasSize(2 * 7 * 4);
    assertThat(a.log().bestStep()).isEqualTo(3);
    List<float[]> second = values(b.adapters());
    for (int i = 0; i < first.size(); i++) {
      assertThat(second.get(i)).as("tensor %d", i).containsExactly(first.get(i));
    }
    assertThat(a.log().steps()).isEqualTo(b.log().steps());
    List<float[]> other = values(c.adapters());
    assertThat(java.util.stream.IntStream.range(0, first.size())
        .anyMatch(i -> !java.util.Arrays.equals(first.get(i), other.get(i))))
        .as("another seed gives other adapters").isTrue();
  }

  private static List<float[]> values(LoraAdapters adapters) {
    return LoraTraining.parameters(adapters).stream().map(p -> p.dup().data().asFloat()).toList();
  }

  @Test
  void aNaNLossIsReportedAsAFailedRecoveryNamingTheStep() {
    LoraRecoveryRunner runner =
        LoraRecoveryRunner.builder(damaged, train, validation)
            .settings(SHORT.withMaxSteps(4))
            .lossTap((config, step, loss) -> step == 2 ? Double.NaN : loss)
            .build();
    assertThatThrownBy(() -> runner.recover(RankConfig.uniform(5, 2), 3))
        .isInstanceOf(RecoveryFailedException.class)
        .hasMessageContaining("step 2")
        .hasMessageContaining("NaN")
        .hasMessageContaining("[2,2,2,2,2]");
  }

  @Test
  void anExplodingLossIsReportedAsAFailedRecovery() {
    LoraRecoveryRunner runner =
        LoraRecoveryRunner.builder(damaged, train, validation)
            .settings(SHORT.withMaxSteps(4))
            .lossTap((config, step, loss) -> step == 3 ? loss * 50 : loss)
            .build();
    assertThatThrownBy(() -> runner.recover(RankConfig.uniform(5, 2), 3))
        .isInstanceOf(RecoveryFailedException.class)
        .hasMessageContaining("step 3")
        .hasMessageContaining("exceeds 10.0 times the first step's");
  }

  @Test
  void aRecoveryThatNeverImprovesIsAFailureNotItsStartingPoint() {
    // A learning rate far too high raises the validation loss without tripping the divergence rule.
    LoraRecoveryRunner runner = runner(SHORT.withMaxSteps(4).withEvalInterval(2).withLearningRate(1e4));
    assertThatThrownBy(() -> runner.recover(RankConfig.uniform(5, 2), 3))
        .isInstanceOf(RecoveryFailedException.class)
        .hasMessageContaining("never improved on its starting validation loss")
        .hasMessageContaining("[2,2,2,2,2]");
  }

  @Test
  void aSearchRecordsADivergedRecoveryAndGoesOn() {
    AtomicReference<RankConfig> firstConfig = new AtomicReference<>();
    LoraRecoveryRunner runner =
        LoraRecoveryRunner.builder(damaged, train, validation)
            .settings(SHORT.withMaxSteps(2).withEvalInterval(0))
            .lossTap((config, step, loss) -> {
              firstConfig.compareAndSet(null, config);
              return config.equals(firstConfig.get()) ? Double.NaN : loss;
            })
            .build();
    Evaluator<RecoveredModel> heldOut = new Evaluator<>() {
      @Override
      public String taskId() {
        return "tinystories-heldout";
      }

      @Override
      public Evaluation evaluate(RecoveredModel model) {
        return new Evaluation(-model.validationLoss(), Map.of("ppl", Math.exp(model.validationLoss())));
      }
    };
    RankSpace space = RankSpace.builder(5).candidates(2, 4).build();
    SearchResult result = RankAdaptor.search(
        SearchSpec.builder(new BayesianRidgeModel(space), runner, heldOut)
            .seed(5)
            .warmupEvaluations(2)
            .maxEvaluations(3)
            .candidatesPerIteration(64)
            .convergence(1e-12, 5)
            .build());
    List<IterationRecord> trace = result.trace();
    assertThat(trace).hasSize(3);
    assertThat(trace.get(0).observation().succeeded()).isFalse();
    assertThat(trace.get(0).observation().failure()).contains("diverged at step 1").contains("NaN");
    assertThat(trace.subList(1, 3)).allMatch(r -> r.observation().succeeded());
    assertThat(result.best()).isNotEqualTo(firstConfig.get());
    assertThat(result.bestScore()).isGreaterThan(-damagedLoss);
  }

  @Test
  void rejectsAConfigurationOfAnotherDepth() {
    assertThatThrownBy(() -> runner(SHORT).recover(RankConfig.uniform(4, 8), 1))
        .isInstanceOf(InvalidRankConfigException.class)
        .hasMessageContaining("4 layers")
        .hasMessageContaining("5");
  }

  @Test
  void baselinesByName() {
    RankSpace space = RankSpace.builder(8).searchLayers(2, 5).build();
    assertThat(RecoveryBaselines.byName("none", space).totalRank()).isZero();
    assertThat(RecoveryBaselines.byName("Uniform", space).toArray()).containsOnly(8);
    assertThat(RecoveryBaselines.byName("LoRA*", space).toArray()).containsExactly(8, 8, 4, 6, 10, 12, 8, 8);
    // A layer pruned too narrow for its quarter's rank takes the highest rank it can use.
    RankSpace narrow = RankSpace.builder(8).searchLayers(2, 5).layerCandidates(5, 2, 4, 6, 8).build();
    assertThat(RecoveryBaselines.loraStar(narrow).toArray()).containsExactly(8, 8, 4, 6, 10, 8, 8, 8);
    assertThatThrownBy(() -> RecoveryBaselines.byName("half", space))
        .hasMessageContaining("half").hasMessageContaining("lora*");
  }

  @Test
  void fingerprintChangesWithTheModelTheDataAndTheSettings() {
    String base = runner(SHORT).fingerprint();
    assertThat(runner(SHORT).fingerprint()).isEqualTo(base);
    assertThat(runner(SHORT.withLearningRate(1e-3)).fingerprint()).isNotEqualTo(base);
    assertThat(LoraRecoveryRunner.builder(damaged, validation, validation).settings(SHORT).build().fingerprint())
        .isNotEqualTo(base);
    // Pruning is deterministic, so pruning again gives the same weights and the same fingerprint.
    assertThat(RecoveryInputs.weightsHash(prune(pretrainedModel, tokenizerUsed, calibrationText)))
        .isEqualTo(RecoveryInputs.weightsHash(damaged));
    assertThat(RecoveryInputs.weightsHash(LlamaModel.randomInit(damaged.config(), 1, DataType.FLOAT)))
        .isNotEqualTo(RecoveryInputs.weightsHash(damaged));
  }
}
