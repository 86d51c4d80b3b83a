package org.rankadaptor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.predictor.BayesianRidgeModel;
import org.rankadaptor.demo.DemoObjective;

/**
 * The default search protocol: the anchor, replicates with paired seeds, the stopping rule that weighs
 * expected gains against the measured noise, the confirmation stage and its verdict, the budget that
 * counts every fine-tune, and resuming. Scores here have the structure of real recoveries: a shift
 * that a recovery seed gives every configuration alike, plus a term of each configuration's own.
 */
class NoiseAwareSearchTest {
  @TempDir Path dir;

  private static final RankSpace SPACE = RankSpace.builder(6).searchLayers(1, 4).build();

  /** Scores {@code truth(config) + shift(seed) + noise(config, seed)}; the runner and the evaluator. */
  static class PairedObjective implements RecoveryRunner<PairedObjective.Run>, Evaluator<PairedObjective.Run> {
    record Run(RankConfig config, long seed) {}

    private final ToDoubleFunction<RankConfig> truth;
    private final double shiftStd;
    private final double noiseStd;
    int recoveries;

    PairedObjective(ToDoubleFunction<RankConfig> truth, double shiftStd, double noiseStd) {
      this.truth = truth;
      this.shiftStd = shiftStd;
      this.noiseStd = noiseStd;
    }

    @Override
    public Run recover(RankConfig config, long seed) {
      recoveries++;
      return new Run(config, seed);
    }

    @Override
    public String taskId() {
      return "paired";
    }

    @Override
    public String fingerprint() {
      return "paired:" + shiftStd + ":" + noiseStd;
    }

    @Override
    public Evaluation evaluate(Run run) {
      double shift = shiftStd * gaussian(new SplittableRandom(run.seed() * 7919));
      double noise = noiseStd * gaussian(new SplittableRandom(run.config().hashCode() * 31L + run.seed()));
      return Evaluation.of(truth.applyAsDouble(run.config()) + shift + noise);
    }

    private static double gaussian(SplittableRandom r) {
      return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }
  }

  private static SearchSpec.Builder<PairedObjective.Run> spec(PairedObjective objective, long seed) {
    return SearchSpec.builder(new BayesianRidgeModel(SPACE), objective, objective).seed(seed).maxEvaluations(14);
  }

  @Test
  void defaultSearchEvaluatesTheAnchorAndAnotherConfigurationOnMoreThanOneSeedBeforeItStops() {
    DemoObjective shape = DemoObjective.create(SPACE, 3);
    for (long seed = 0; seed < 5; seed++) {
      PairedObjective objective = new PairedObjective(shape::trueScore, 0.05, 0.01);
      SearchResult result = RankAdaptor.search(spec(objective, seed).build());
      RankConfig anchor = SPACE.uniform(8);
      assertThat(result.trace().get(0).config()).isEqualTo(anchor);
      assertThat(result.trace()).filteredOn(r -> r.config().equals(anchor)).extracting(IterationRecord::seed)
          .doesNotHaveDuplicates().hasSizeGreaterThan(1);
      Map<RankConfig, Long> seedsPerOther = result.trace().stream().filter(r -> !r.config().equals(anchor))
          .collect(Collectors.groupingBy(IterationRecord::config, Collectors.mapping(IterationRecord::seed,
              Collectors.collectingAndThen(Collectors.toSet(), s -> (long) s.size()))));
      assertThat(seedsPerOther.values()).anyMatch(n -> n > 1);
      assertThat(result.trace()).hasSizeLessThanOrEqualTo(14);
      assertThat(objective.recoveries).isEqualTo(result.trace().size());
      assertThat(result.noiseStd()).isPresent();
      assertThat(result.confirmation()).isPresent();
    }
  }

  @Test
  void theBudgetCountsEveryFineTuneReplicatesIncluded() {
    DemoObjective shape = DemoObjective.create(SPACE, 4);
    for (int budget : new int[] {1, 2, 3, 5, 8, 9, 12, 20}) {
      PairedObjective objective = new PairedObjective(shape::trueScore, 0.05, 0.01);
      SearchResult result = RankAdaptor.search(spec(objective, 1).maxEvaluations(budget)
          .stoppingRule(StoppingRule.never()).build());
      assertThat(result.fineTunes()).as("budget %s", budget).isEqualTo(budget);
      assertThat(objective.recoveries).isEqualTo(budget);
    }
  }

  @Test
  void aBudgetThatEndsWithinASeedDropsTheFinalistItDidNotReachNotTheSeed() {
    DemoObjective shape = DemoObjective.create(SPACE, 4);
    SearchResult result = RankAdaptor.search(spec(new PairedObjective(shape::trueScore, 0.05, 0.01), 1)
        .maxEvaluations(8).stoppingRule(StoppingRule.never()).build());
    assertThat(result.fineTunes()).isEqualTo(8);
    Confirmation c = result.confirmation().orElseThrow();
    assertThat(c.finalists()).allMatch(f -> f.seeds().size() == 3);
    assertThat(c.finalists()).anyMatch(f -> f.config().equals(SPACE.uniform(8)));
    assertThat(c.finalists()).hasSizeGreaterThanOrEqualTo(2);
    c.comparison().ifPresent(p -> assertThat(p.seeds()).hasSize(3));
  }

  @Test
  void aClearlyBetterConfigurationIsFoundAndJudgedBetterWithAnInterval() {
    RankConfig winner = RankConfig.of(8, 12, 2, 12, 2, 8);
    // Uniform rank 8 and everything else sit at 0; the winner is 10 noise units above.
    PairedObjective objective = new PairedObjective(c -> c.equals(winner) ? 0.1 : 0.0, 0.05, 0.01);
    SearchResult result = RankAdaptor.search(spec(objective, 2)
        .stoppingRule(StoppingRule.never())
        .warmupEvaluations(0)
        .maxEvaluations(2000)
        .confirmation(2, 3)
        .replicateSeeds(3, 4, 5)
        .build());
    assertThat(result.best()).isEqualTo(winner);
    assertThat(result.verdict()).contains(Verdict.BETTER);
    PairedComparison c = result.confirmation().orElseThrow().comparison().orElseThrow();
    assertThat(c.baseline()).isEqualTo(SPACE.uniform(8));
    assertThat(c.seeds()).hasSize(4);
    assertThat(c.lower()).isPositive();
    assertThat(c.meanDifference()).isBetween(0.07, 0.13);
    assertThat(result.confirmation().get().reason()).contains("is better than");
  }

  @Test
  void withNoDetectableDifferenceTheCheaperConfigurationIsRecommendedAndTheReasonSaysSo() {
    // Every configuration is equally good: whatever the search finds is noise.
    for (long seed = 0; seed < 6; seed++) {
      PairedObjective objective = new PairedObjective(c -> 0.0, 0.05, 0.01);
      SearchResult result = RankAdaptor.search(spec(objective, seed).build());
      Confirmation confirmation = result.confirmation().orElseThrow();
      assertThat(result.verdict()).isNotEqualTo(java.util.Optional.of(Verdict.BETTER));
      if (result.verdict().isPresent()) {
        assertThat(result.verdict()).contains(Verdict.NO_DETECTABLE_DIFFERENCE);
        assertThat(confirmation.reason()).contains("no detectable difference");
        Finalist chosen = confirmation.finalists().stream().filter(f -> f.config().equals(result.best()))
            .findFirst().orElseThrow();
        Finalist anchor = confirmation.finalists().stream().filter(f -> f.config().equals(SPACE.uniform(8)))
            .findFirst().orElseThrow();
        assertThat(chosen.cost()).isLessThanOrEqualTo(anchor.cost());
      }
    }
  }

  @Test
  void theDefaultRuleStopsWhenNoCandidateIsExpectedToBeatTheIncumbentByMoreThanTheNoise() {
    // A flat response with large noise: nothing is worth another fine-tune.
    PairedObjective objective = new PairedObjective(c -> 0.0, 0.0, 0.05);
    SearchResult result = RankAdaptor.search(spec(objective, 5).maxEvaluations(60).build());
    assertThat(result.stopReason()).isEqualTo(StopReason.CONVERGED);
    assertThat(result.stopExplanation()).startsWith("no-expected-improvement").contains("not more than the noise");
    assertThat(result.fineTunes()).isLessThan(60);
  }

  @Test
  void thePapersRuleRelativeToTheNoiseWaitsForTheNoiseToBeMeasured() {
    DemoObjective shape = DemoObjective.create(SPACE, 6);
    PairedObjective objective = new PairedObjective(shape::trueScore, 0.05, 0.01);
    SearchResult result = RankAdaptor.search(spec(objective, 6).maxEvaluations(40)
        .stoppingRule(StoppingRule.paperRelativeToNoise(3, 1)).build());
    if (result.stopReason() == StopReason.CONVERGED) {
      assertThat(result.stopExplanation()).startsWith("paper(3.0 x noise");
      // The noise needs two configurations on two seeds, and the rule an exploration evaluation after them.
      long replicatesBefore = result.trace().stream().filter(r -> r.phase() == SearchPhase.CONFIRMATION).count();
      assertThat(replicatesBefore).isGreaterThanOrEqualTo(2);
    }
    assertThat(result.provenance().settings()).containsEntry("stoppingRule", "paper(3.0 x noise, patience 1)");
  }

  @Test
  void theSearchSeedDrivesTheChoicesAndTheSameSeedRepeatsThem() {
    DemoObjective shape = DemoObjective.create(SPACE, 7);
    List<RankConfig> a = configs(RankAdaptor.search(spec(new PairedObjective(shape::trueScore, 0.05, 0.01), 1).build()));
    List<RankConfig> b = configs(RankAdaptor.search(spec(new PairedObjective(shape::trueScore, 0.05, 0.01), 1).build()));
    List<RankConfig> c = configs(RankAdaptor.search(spec(new PairedObjective(shape::trueScore, 0.05, 0.01), 2).build()));
    assertThat(b).isEqualTo(a);
    assertThat(c).isNotEqualTo(a);
  }

  @Test
  void aKilledSearchResumesFromItsStoreToTheSameResultReplicatesIncluded() {
    DemoObjective shape = DemoObjective.create(SPACE, 8);
    SearchResult uninterrupted = RankAdaptor.search(spec(new PairedObjective(shape::trueScore, 0.05, 0.01), 8).build());
    int crashAt = uninterrupted.trace().size() - 2;
    Path file = dir.resolve("store.jsonl");
    PairedObjective crashing = new PairedObjective(shape::trueScore, 0.05, 0.01) {
      @Override
      public Run recover(RankConfig config, long seed) {
        if (recoveries == crashAt) {
          throw new IllegalStateException("simulated crash");
        }
        return super.recover(config, seed);
      }
    };
    try (ObservationStore store = ObservationStore.open(file)) {
      assertThatThrownBy(() -> RankAdaptor.search(spec(crashing, 8).store(store).build()))
          .hasMessageContaining("simulated crash");
    }
    try (ObservationStore store = ObservationStore.open(file)) {
      SearchResult resumed = RankAdaptor.search(spec(new PairedObjective(shape::trueScore, 0.05, 0.01), 8)
          .store(store).build());
      assertThat(configs(resumed)).isEqualTo(configs(uninterrupted));
      assertThat(resumed.trace()).extracting(IterationRecord::seed)
          .isEqualTo(uninterrupted.trace().stream().map(IterationRecord::seed).toList());
      assertThat(resumed.best()).isEqualTo(uninterrupted.best());
      assertThat(resumed.confirmation().orElseThrow().reason())
          .isEqualTo(uninterrupted.confirmation().orElseThrow().reason());
      assertThat(resumed.newEvaluations()).isEqualTo(uninterrupted.trace().size() - crashAt);
    }
  }

  @Test
  void randomSearchNeedsNoModelAndTheSearchRefusesASpecWithout() {
    DemoObjective objective = DemoObjective.create(SPACE, 9);
    SearchSpec<DemoObjective.Recovered> spec = SearchSpec.builder(SPACE, objective, objective).seed(9)
        .maxEvaluations(6).build();
    assertThat(RankAdaptor.randomSearch(spec).fineTunes()).isEqualTo(6);
    assertThatThrownBy(() -> RankAdaptor.search(spec)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("needs a performance model");
  }

  @Test
  void anUnknownSourceTaskIsAnErrorNamingTheKnownOnes() {
    DemoObjective source = DemoObjective.task(SPACE, 1, 1, 0.2, 0.01);
    DemoObjective target = DemoObjective.task(SPACE, 1, 0, 0.2, 0.01);
    ObservationStore store = ObservationStore.inMemory();
    RankAdaptor.randomSearch(SearchSpec.builder(SPACE, source, source).seed(1).store(store).maxEvaluations(5).build());
    assertThatThrownBy(() -> RankAdaptor.search(SearchSpec.builder(new BayesianRidgeModel(SPACE), target, target)
            .seed(1).store(store).sourceTasks("demo-l").build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'demo-l'").hasMessageContaining("[demo-1]");
  }

  @Test
  void replicateSeedsMustDifferFromTheRecoverySeed() {
    DemoObjective objective = DemoObjective.create(SPACE, 1);
    assertThatThrownBy(() -> SearchSpec.builder(new BayesianRidgeModel(SPACE), objective, objective)
            .seed(1).recoverySeed(5).replicateSeeds(6, 5).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("must differ");
    assertThatThrownBy(() -> SearchSpec.builder(new BayesianRidgeModel(SPACE), objective, objective)
            .seed(1).replicateSeeds(6).confirmation(2, 2).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("needs 2 replicate seeds");
  }

  private static List<RankConfig> configs(SearchResult r) {
    return r.trace().stream().map(IterationRecord::config).toList();
  }
}
