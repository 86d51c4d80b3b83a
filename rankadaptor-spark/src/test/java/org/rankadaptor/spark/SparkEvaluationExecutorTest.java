package org.rankadaptor.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.EvaluationExecutor;
import org.rankadaptor.IterationRecord;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.RankAdaptor;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.RecoveryFailedException;
import org.rankadaptor.RecoveryRunner;
import org.rankadaptor.SearchResult;
import org.rankadaptor.SearchSpec;
import org.rankadaptor.predictor.BayesianRidgeModel;
import org.rankadaptor.demo.DemoObjective;

/**
 * Searches whose fine-tunes run as Spark tasks on a local master with two task slots and two attempts
 * per task: each evaluation stored once, the same trace as one at a time, a resume after the driver
 * stopped, a failing task retried, a diverging recovery recorded.
 */
class SparkEvaluationExecutorTest {
  @TempDir Path dir;

  private static final RankSpace SPACE = RankSpace.builder(6).searchLayers(1, 4).build();
  private static JavaSparkContext spark;
  private static final AtomicInteger failedAttempts = new AtomicInteger();

  /**
   * The demo objective, built on the executor; {@code flaky} fails its first attempt, {@code broken}
   * every attempt, {@code diverging} is a recovery that fails as a diverged fine-tune does.
   */
  record DemoSetup(long familySeed, String flaky, String broken, String diverging)
      implements FineTuneSetup<DemoObjective.Recovered> {

    static DemoSetup plain(long familySeed) {
      return new DemoSetup(familySeed, "", "", "");
    }

    @Override
    public Built<DemoObjective.Recovered> build() {
      DemoObjective objective = DemoObjective.task(SPACE, familySeed, 0, 0.0, 0.01);
      RecoveryRunner<DemoObjective.Recovered> runner = new RecoveryRunner<>() {
        @Override
        public DemoObjective.Recovered recover(RankConfig config, long seed) {
          String key = config.format() + "/" + seed;
          TaskContext task = TaskContext.get();
          if (key.equals(broken) || (key.equals(flaky) && task != null && task.attemptNumber() == 0)) {
            throw new IllegalStateException("executor lost while recovering " + key);
          }
          if (key.equals(diverging)) {
            throw new RecoveryFailedException("loss became NaN at step 3");
          }
          return objective.recover(config, seed);
        }

        @Override
        public String fingerprint() {
          return objective.fingerprint();
        }
      };
      return new Built<>(runner, objective);
    }
  }

  @BeforeAll
  static void startSpark() {
    // Two task slots; every task may be tried twice.
    spark = new JavaSparkContext(new SparkConf().setMaster("local[2,2]").setAppName("rankadaptor-test")
        .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1"));
    spark.sc().addSparkListener(new SparkListener() {
      @Override
      public void onTaskEnd(SparkListenerTaskEnd end) {
        if (!end.taskInfo().successful()) {
          failedAttempts.incrementAndGet();
        }
      }
    });
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  private static SearchSpec.Builder<DemoObjective.Recovered> spec(FineTuneSetup<DemoObjective.Recovered> setup,
      ObservationStore store) {
    FineTuneSetup.Built<DemoObjective.Recovered> here = setup.build();
    return SearchSpec.builder(new BayesianRidgeModel(SPACE), here.runner(), here.evaluator())
        .seed(7).maxEvaluations(12).batchSize(2).store(store);
  }

  private static List<String> trace(SearchResult result) {
    return result.trace().stream().map(r -> r.batch() + ":" + r.phase() + ":" + r.config().format() + "/" + r.seed()
        + "=" + (r.observation().succeeded() ? r.observation().score() : "failed")).toList();
  }

  private static List<String> storedKeys(ObservationStore store) {
    return store.all().stream().map(o -> o.config().format() + "/" + o.provenance().seed()).toList();
  }

  @Test
  void aBatchedSearchOnSparkStoresEachEvaluationOnceAndRepeatsTheTraceOfOneAtATime() {
    DemoSetup setup = DemoSetup.plain(31);
    SearchResult local = RankAdaptor.search(spec(setup, ObservationStore.inMemory()).build());
    ObservationStore store = ObservationStore.inMemory();
    SearchResult onSpark;
    try (EvaluationExecutor executor = SparkEvaluationExecutor.create(spark, setup, 2)) {
      onSpark = RankAdaptor.search(spec(setup, store).executor(executor).build());
      assertThat(trace(RankAdaptor.search(spec(setup, ObservationStore.inMemory()).executor(executor).build())))
          .as("the same seed again on Spark").isEqualTo(trace(onSpark));
    }
    assertThat(trace(onSpark)).isEqualTo(trace(local));
    assertThat(storedKeys(store)).doesNotHaveDuplicates().hasSize(onSpark.trace().size());
    assertThat(onSpark.provenance().settings()).containsEntry("executor", "spark(local[2,2], 2)");
  }

  @Test
  void aSearchWhoseDriverStoppedMidBatchResumesFromItsStoreToTheSameResult() {
    DemoSetup plain = DemoSetup.plain(32);
    SearchResult uninterrupted = RankAdaptor.search(spec(plain, ObservationStore.inMemory()).build());
    IterationRecord victim = uninterrupted.trace().get(uninterrupted.trace().size() / 2);
    DemoSetup broken = new DemoSetup(32, "", victim.config().format() + "/" + victim.seed(), "");
    Path file = dir.resolve("store.jsonl");
    int storedBefore;
    try (ObservationStore store = ObservationStore.open(file);
        EvaluationExecutor executor = SparkEvaluationExecutor.create(spark, broken, 2)) {
      assertThatThrownBy(() -> RankAdaptor.search(spec(broken, store).executor(executor).build()))
          .hasMessageContaining("failed on Spark after its retries")
          .hasMessageContaining("executor lost while recovering");
      storedBefore = store.size();
      assertThat(storedKeys(store)).doesNotHaveDuplicates()
          .doesNotContain(victim.config().format() + "/" + victim.seed());
      assertThat(storedBefore).isGreaterThanOrEqualTo(victim.index() - 1);
    }
    try (ObservationStore store = ObservationStore.open(file);
        EvaluationExecutor executor = SparkEvaluationExecutor.create(spark, plain, 2)) {
      SearchResult resumed = RankAdaptor.search(spec(plain, store).executor(executor).build());
      assertThat(trace(resumed)).isEqualTo(trace(uninterrupted));
      assertThat(resumed.newEvaluations()).isEqualTo(uninterrupted.trace().size() - storedBefore);
      assertThat(storedKeys(store)).doesNotHaveDuplicates().hasSize(uninterrupted.trace().size());
    }
  }

  @Test
  void aTaskThatFailsOnceIsRetriedAndADivergedRecoveryIsRecorded() throws InterruptedException {
    DemoSetup plain = DemoSetup.plain(33);
    SearchResult reference = RankAdaptor.search(spec(plain, ObservationStore.inMemory()).build());
    IterationRecord flaky = reference.trace().get(2);
    IterationRecord diverging = reference.trace().get(4);
    DemoSetup setup = new DemoSetup(33, flaky.config().format() + "/" + flaky.seed(), "",
        diverging.config().format() + "/" + diverging.seed());
    int failedBefore = failedAttempts.get();
    ObservationStore store = ObservationStore.inMemory();
    SearchResult result;
    try (EvaluationExecutor executor = SparkEvaluationExecutor.create(spark, setup, 2)) {
      result = RankAdaptor.search(spec(setup, store).executor(executor).build());
    }
    assertThat(result.trace().get(2).observation().score()).isEqualTo(flaky.observation().score());
    assertThat(result.trace().get(4).observation().succeeded()).isFalse();
    assertThat(result.trace().get(4).observation().failure()).contains("NaN");
    assertThat(store.all()).filteredOn(o -> !o.succeeded()).hasSize(1);
    // Spark reports task ends on its listener bus, a little after the job.
    for (int i = 0; i < 100 && failedAttempts.get() == failedBefore; i++) {
      Thread.sleep(50);
    }
    assertThat(failedAttempts.get() - failedBefore).as("failed task attempts").isEqualTo(1);
  }

  @Test
  void anExecutorThatBuildsAnotherModelIsRefusedByName() {
    DemoSetup driverSide = DemoSetup.plain(34);
    DemoSetup executorSide = DemoSetup.plain(35);
    try (EvaluationExecutor executor = SparkEvaluationExecutor.create(spark, executorSide, 2)) {
      assertThatThrownBy(() -> RankAdaptor.search(spec(driverSide, ObservationStore.inMemory()).executor(executor)
          .build()))
          .hasMessageContaining("the executor's runner is not the search's");
    }
  }
}
