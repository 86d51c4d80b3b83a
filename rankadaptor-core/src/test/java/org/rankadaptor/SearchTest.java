package org.rankadaptor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.predictor.BayesianRidgeModel;
import org.rankadaptor.demo.DemoObjective;

class SearchTest {
  @TempDir Path dir;

  private static final RankSpace SPACE = RankSpace.builder(12).searchLayers(1, 10).build();

  private static SearchSpec.Builder<DemoObjective.Recovered> spec(DemoObjective objective, long seed, int budget) {
    return SearchSpec.builder(new BayesianRidgeModel(SPACE), objective, objective)
        .seed(seed)
        .candidatesPerIteration(5_000)
        .warmupEvaluations(5)
        .maxEvaluations(budget)
        // The paper's loop without stopping rule, anchor or confirmation: compare at an equal number
        // of single-seed evaluations.
        .stoppingRule(StoppingRule.never())
        .noAnchor()
        .confirmation(0, 0);
  }

  private static double regret(DemoObjective objective, SearchResult result) {
    return objective.trueScore(objective.optimum()) - objective.trueScore(result.best());
  }

  @Test
  void beatsRandomSearchOnMedianRegretOver20Seeds() {
    int seeds = 20;
    int budget = 25;
    double[] searchRegret = new double[seeds];
    double[] randomRegret = new double[seeds];
    for (int s = 0; s < seeds; s++) {
      DemoObjective objective = DemoObjective.task(SPACE, 100 + s, 0, 0.0, 0.01);
      searchRegret[s] = regret(objective, RankAdaptor.search(spec(objective, s, budget).build()));
      randomRegret[s] = regret(objective, RankAdaptor.randomSearch(spec(objective, s, budget).build()));
    }
    double searchMedian = median(searchRegret);
    double randomMedian = median(randomRegret);
    assertThat(searchMedian).as("median regret of RankAdaptor vs random search (%s vs %s)",
        Arrays.toString(searchRegret), Arrays.toString(randomRegret)).isLessThan(randomMedian * 0.7);
  }

  @Test
  void metaLearningFromRelatedTasksLowersRegretWithFewEvaluations() {
    int seeds = 10;
    double[] withMeta = new double[seeds];
    double[] without = new double[seeds];
    for (int s = 0; s < seeds; s++) {
      ObservationStore store = ObservationStore.inMemory();
      for (int source = 1; source <= 3; source++) {
        DemoObjective sourceTask = DemoObjective.task(SPACE, 500 + s, source, 0.2, 0.01);
        RankAdaptor.randomSearch(SearchSpec.builder(new BayesianRidgeModel(SPACE), sourceTask, sourceTask)
            .seed(source).store(store).maxEvaluations(40).build());
      }
      DemoObjective target = DemoObjective.task(SPACE, 500 + s, 0, 0.2, 0.01);
      withMeta[s] = regret(target, RankAdaptor.search(spec(target, s, 6).warmupEvaluations(0).store(store).build()));
      without[s] = regret(target, RankAdaptor.search(spec(target, s, 6).warmupEvaluations(0).metaLearning(false).build()));
    }
    assertThat(median(withMeta)).as("with %s, without %s", Arrays.toString(withMeta), Arrays.toString(without))
        .isLessThan(median(without));
  }

  @Test
  void stopsByTheConvergenceRule() {
    DemoObjective objective = DemoObjective.task(SPACE, 3, 0, 0.0, 0.002);
    List<SearchPhase> phases = new ArrayList<>();
    SearchResult result = RankAdaptor.search(spec(objective, 3, 200)
        .convergence(0.01, 2)
        .listener(new SearchListener() {
          @Override
          public void onPhase(SearchPhase phase) {
            phases.add(phase);
          }
        })
        .build());
    assertThat(result.stopReason()).isEqualTo(StopReason.CONVERGED);
    assertThat(result.trace().size()).isLessThan(200);
    List<IterationRecord> trace = result.trace();
    assertThat(result.stopExplanation()).startsWith("paper(0.01, patience 2) held for 2 iteration(s)");
    assertThat(trace.get(trace.size() - 1).ruleStreak()).isEqualTo(1);
    assertThat(trace.get(trace.size() - 1).gap()).isLessThanOrEqualTo(0.01);
    assertThat(trace.get(trace.size() - 2).gap()).isLessThanOrEqualTo(0.01);
    assertThat(phases).containsExactly(SearchPhase.INITIALIZATION, SearchPhase.ITERATION, SearchPhase.CONVERGENCE);
    assertThat(result.trace()).extracting(IterationRecord::config).doesNotHaveDuplicates();
  }

  @Test
  void killedSearchResumesFromItsStoreToTheSameResult() {
    DemoObjective objective = DemoObjective.task(SPACE, 11, 0, 0.0, 0.01);
    SearchResult uninterrupted = RankAdaptor.search(spec(objective, 11, 20).build());

    Path file = dir.resolve("search.jsonl");
    int crashAt = 3 + new SplittableRandom(11).nextInt(14);
    CrashingRunner crashing = new CrashingRunner(objective, crashAt);
    try (ObservationStore store = ObservationStore.open(file)) {
      assertThatThrownBy(() -> RankAdaptor.search(
              SearchSpec.builder(new BayesianRidgeModel(SPACE), crashing, objective)
                  .seed(11).candidatesPerIteration(5_000).warmupEvaluations(5).maxEvaluations(20)
                  .stoppingRule(StoppingRule.never()).noAnchor().confirmation(0, 0).store(store).build()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("simulated crash");
    }
    SearchResult resumed;
    try (ObservationStore store = ObservationStore.open(file)) {
      assertThat(store.size()).isEqualTo(crashAt);
      resumed = RankAdaptor.search(spec(objective, 11, 20).store(store).build());
    }
    assertThat(resumed.best()).isEqualTo(uninterrupted.best());
    assertThat(resumed.bestScore()).isEqualTo(uninterrupted.bestScore());
    assertThat(resumed.trace()).extracting(IterationRecord::config)
        .containsExactlyElementsOf(uninterrupted.trace().stream().map(IterationRecord::config).toList());
    assertThat(resumed.newEvaluations()).isEqualTo(20 - crashAt);
    assertThat(resumed.trace().subList(0, crashAt)).allMatch(IterationRecord::reused);
  }

  @Test
  void failedRecoveryIsRecordedAndTheSearchGoesOn() {
    DemoObjective objective = DemoObjective.task(SPACE, 5, 0, 0.0, 0.01);
    RecoveryRunner<DemoObjective.Recovered> flaky = new RecoveryRunner<>() {
      int calls;

      @Override
      public DemoObjective.Recovered recover(RankConfig config, long seed) {
        if (++calls % 3 == 0) {
          throw new RecoveryFailedException("loss became NaN at step " + calls);
        }
        return objective.recover(config, seed);
      }

      @Override
      public String fingerprint() {
        return objective.fingerprint();
      }
    };
    ObservationStore store = ObservationStore.inMemory();
    SearchResult result = RankAdaptor.search(SearchSpec.builder(new BayesianRidgeModel(SPACE), flaky, objective)
        .seed(5).candidatesPerIteration(2_000).warmupEvaluations(3).maxEvaluations(12)
        .stoppingRule(StoppingRule.never()).noAnchor().confirmation(0, 0).store(store).build());
    assertThat(result.trace()).hasSize(12);
    assertThat(store.all()).filteredOn(o -> !o.succeeded()).hasSize(4)
        .allMatch(o -> o.failure().startsWith("loss became NaN"));
    assertThat(result.bestObservation().succeeded()).isTrue();
  }

  @Test
  void anEvaluationThatCannotBeMadeIsRecordedAndTheSearchGoesOn() {
    DemoObjective objective = DemoObjective.task(SPACE, 5, 0, 0.0, 0.01);
    // An evaluator whose score is NaN whenever the first searched layer takes rank 12.
    Evaluator<DemoObjective.Recovered> nanAtTwelve = new Evaluator<>() {
      @Override
      public String taskId() {
        return objective.taskId();
      }

      @Override
      public Evaluation evaluate(DemoObjective.Recovered model) {
        Evaluation e = objective.evaluate(model);
        return model.config().rank(SPACE.searchedLayers()[0]) == 12 ? Evaluation.of(Double.NaN) : e;
      }

      @Override
      public String fingerprint() {
        return objective.fingerprint();
      }
    };
    ObservationStore store = ObservationStore.inMemory();
    SearchResult result = RankAdaptor.search(SearchSpec.builder(new BayesianRidgeModel(SPACE), objective, nanAtTwelve)
        .seed(5).candidatesPerIteration(2_000).warmupEvaluations(12).maxEvaluations(12)
        .stoppingRule(StoppingRule.never()).noAnchor().confirmation(0, 0).store(store).build());
    assertThat(result.trace()).hasSize(12);
    assertThat(store.all()).filteredOn(o -> !o.succeeded()).isNotEmpty()
        .allMatch(o -> o.failure().startsWith("evaluation failed: ") && o.failure().contains("NaN")
            && o.config().rank(SPACE.searchedLayers()[0]) == 12);
    assertThat(result.bestObservation().succeeded()).isTrue();
  }

  @Test
  void failuresSteerTheSearchAwayFromWhereTheyHappen() {
    // An objective that rewards rank 12 in the first searched layer, where every recovery fails.
    int layer = SPACE.searchedLayers()[0];
    DemoObjective objective = DemoObjective.task(SPACE, 3, 0, 0.0, 0.002);
    RecoveryRunner<DemoObjective.Recovered> failsAtTwelve = new RecoveryRunner<>() {
      @Override
      public DemoObjective.Recovered recover(RankConfig config, long seed) {
        if (config.rank(layer) == 12) {
          throw new RecoveryFailedException("loss became NaN");
        }
        return objective.recover(config, seed);
      }

      @Override
      public String fingerprint() {
        return objective.fingerprint();
      }
    };
    Evaluator<DemoObjective.Recovered> rewardsTwelve = new Evaluator<>() {
      @Override
      public String taskId() {
        return objective.taskId();
      }

      @Override
      public Evaluation evaluate(DemoObjective.Recovered model) {
        return Evaluation.of(objective.evaluate(model).score() + 0.5 * model.config().rank(layer));
      }

      @Override
      public String fingerprint() {
        return objective.fingerprint();
      }
    };
    SearchResult result = RankAdaptor.search(SearchSpec.builder(new BayesianRidgeModel(SPACE), failsAtTwelve,
            rewardsTwelve)
        .seed(3).candidatesPerIteration(2_000).warmupEvaluations(4).maxEvaluations(15)
        .stoppingRule(StoppingRule.never()).noAnchor().confirmation(0, 0).build());
    assertThat(result.trace()).hasSize(15);
    assertThat(result.failures()).as("failed fine-tunes").isLessThanOrEqualTo(4);
    assertThat(result.best().rank(layer)).isNotEqualTo(12);
  }

  @Test
  void specWithoutSeedIsRefused() {
    DemoObjective objective = DemoObjective.create(SPACE, 1);
    assertThatThrownBy(() -> SearchSpec.builder(new BayesianRidgeModel(SPACE), objective, objective).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("explicit seed");
  }

  @Test
  void exhaustsATinySpace() {
    RankSpace tiny = RankSpace.builder(3).candidates(new int[] {1, 2}).searchLayers(0, 1).build();
    DemoObjective objective = DemoObjective.create(tiny, 9);
    SearchResult result = RankAdaptor.search(SearchSpec.builder(new BayesianRidgeModel(tiny), objective, objective)
        .seed(9).maxEvaluations(50).stoppingRule(StoppingRule.never()).noAnchor().confirmation(0, 0).build());
    assertThat(result.stopReason()).isEqualTo(StopReason.SPACE_EXHAUSTED);
    assertThat(result.trace()).hasSize(4);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** Recovers like the objective but throws at one evaluation, as a killed process would stop. */
  private static final class CrashingRunner implements RecoveryRunner<DemoObjective.Recovered> {
    private final DemoObjective objective;
    private final int crashAt;
    private int calls;

    CrashingRunner(DemoObjective objective, int crashAt) {
      this.objective = objective;
      this.crashAt = crashAt;
    }

    @Override
    public DemoObjective.Recovered recover(RankConfig config, long seed) {
      if (calls++ == crashAt) {
        throw new IllegalStateException("simulated crash at evaluation " + crashAt);
      }
      return objective.recover(config, seed);
    }

    @Override
    public String fingerprint() {
      return objective.fingerprint();
    }
  }
}
