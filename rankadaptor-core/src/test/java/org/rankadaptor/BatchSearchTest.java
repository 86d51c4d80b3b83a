package org.rankadaptor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.NoiseAwareSearchTest.PairedObjective;
import org.rankadaptor.predictor.BayesianRidgeModel;
import org.rankadaptor.demo.DemoObjective;

/**
 * Searches that choose several configurations at once and run them through an executor: the trace is
 * the same whatever the executor and the completion order, every evaluation is stored once as soon as
 * it finishes, a killed batch loses only what was in flight, and the budget holds.
 */
class BatchSearchTest {
  @TempDir Path dir;

  private static final RankSpace SPACE = RankSpace.builder(6).searchLayers(1, 4).build();

  /** A paired objective whose fine-tunes take a few milliseconds, in an order unrelated to the batch's. */
  static class SlowObjective extends PairedObjective {
    final Set<String> running = ConcurrentHashMap.newKeySet();
    final AtomicInteger mostAtOnce = new AtomicInteger();

    SlowObjective(DemoObjective shape) {
      super(shape::trueScore, 0.05, 0.01);
    }

    @Override
    public Run recover(RankConfig config, long seed) {
      String key = config.format() + "/" + seed;
      running.add(key);
      mostAtOnce.accumulateAndGet(running.size(), Math::max);
      try {
        Thread.sleep(Math.floorMod(config.hashCode() * 31 + seed, 7) * 3L);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } finally {
        running.remove(key);
      }
      synchronized (this) {
        return super.recover(config, seed);
      }
    }
  }

  private static SearchSpec.Builder<PairedObjective.Run> spec(PairedObjective objective, long seed, int q) {
    return SearchSpec.builder(new BayesianRidgeModel(SPACE), objective, objective)
        .seed(seed).maxEvaluations(16).batchSize(q);
  }

  private static List<String> trace(SearchResult result) {
    return result.trace().stream()
        .map(r -> r.index() + ":" + r.phase() + ":" + r.config().format() + "/" + r.seed() + "="
            + (r.observation().succeeded() ? r.observation().score() : "failed"))
        .toList();
  }

  @Test
  void aSeedGivesTheSameTraceWithTheThreadsExecutorAsOneAtATime() {
    DemoObjective shape = DemoObjective.create(SPACE, 21);
    SearchResult sequential = RankAdaptor.search(spec(new SlowObjective(shape), 3, 2).build());
    SlowObjective parallel = new SlowObjective(shape);
    SearchResult threaded;
    try (EvaluationExecutor threads = EvaluationExecutor.threads(2)) {
      threaded = RankAdaptor.search(spec(parallel, 3, 2).executor(threads).build());
    }
    assertThat(trace(threaded)).isEqualTo(trace(sequential));
    assertThat(threaded.best()).isEqualTo(sequential.best());
    assertThat(threaded.confirmation().orElseThrow().reason())
        .isEqualTo(sequential.confirmation().orElseThrow().reason());
    assertThat(parallel.mostAtOnce.get()).as("fine-tunes that ran at the same time").isEqualTo(2);
    assertThat(threaded.provenance().settings()).containsEntry("batchSize", "2").containsEntry("executor", "threads(2)");
  }

  @Test
  void eachIterationChoosesDistinctConfigurationsAndTheBatchOfOneIsTheOneAtATimeSearch() {
    DemoObjective shape = DemoObjective.create(SPACE, 22);
    SearchResult batched = RankAdaptor.search(spec(new PairedObjective(shape::trueScore, 0.05, 0.01), 4, 4)
        .stoppingRule(StoppingRule.never()).build());
    List<IterationRecord> iteration = batched.trace().stream()
        .filter(r -> r.phase() == SearchPhase.ITERATION).toList();
    assertThat(iteration).hasSizeGreaterThanOrEqualTo(4);
    assertThat(iteration.stream().map(IterationRecord::config).distinct().count()).isEqualTo(iteration.size());
    Map<Integer, List<IterationRecord>> byBatch = iteration.stream()
        .collect(Collectors.groupingBy(IterationRecord::batch, TreeMap::new, Collectors.toList()));
    assertThat(byBatch.values()).allSatisfy(b -> assertThat(b).hasSizeLessThanOrEqualTo(4))
        .anySatisfy(b -> assertThat(b).hasSize(4));
    // A greedy batch: the best predicted means, best first.
    for (List<IterationRecord> b : byBatch.values()) {
      for (int i = 1; i < b.size(); i++) {
        assertThat(b.get(i).predicted()).isLessThanOrEqualTo(b.get(i - 1).predicted());
      }
    }
    SearchResult one = RankAdaptor.search(spec(new PairedObjective(shape::trueScore, 0.05, 0.01), 4, 1)
        .stoppingRule(StoppingRule.never()).build());
    SearchResult defaults = RankAdaptor.search(SearchSpec.builder(new BayesianRidgeModel(SPACE),
            new PairedObjective(shape::trueScore, 0.05, 0.01), new PairedObjective(shape::trueScore, 0.05, 0.01))
        .seed(4).maxEvaluations(16).stoppingRule(StoppingRule.never()).build());
    assertThat(trace(one)).isEqualTo(trace(defaults));
    assertThat(one.trace()).extracting(IterationRecord::batch)
        .as("with batches of one, every fine-tune is its own batch")
        .isEqualTo(IntStream.range(0, one.trace().size()).boxed().toList());
    assertThat(trace(batched)).isNotEqualTo(trace(one));
  }

  @Test
  void thompsonSamplingTakesIndependentDrawsForABatch() {
    DemoObjective shape = DemoObjective.create(SPACE, 23);
    PairedObjective objective = new PairedObjective(shape::trueScore, 0.05, 0.01);
    SearchResult result = RankAdaptor.search(spec(objective, 5, 3).acquisition(Acquisition.thompsonSampling())
        .stoppingRule(StoppingRule.never()).build());
    List<IterationRecord> iteration = result.trace().stream().filter(r -> r.phase() == SearchPhase.ITERATION).toList();
    assertThat(iteration.stream().map(IterationRecord::config).distinct().count()).isEqualTo(iteration.size());
    // Draws, not the three best predicted means: some batch holds a choice ranked below a later one.
    boolean outOfOrder = false;
    for (int i = 0; i + 1 < iteration.size(); i++) {
      IterationRecord a = iteration.get(i);
      IterationRecord b = iteration.get(i + 1);
      outOfOrder |= a.batch() == b.batch() && b.predicted() > a.predicted();
    }
    assertThat(outOfOrder).isTrue();
  }

  @Test
  void warmUpConfigurationsFillBatchesAndExplorationFollows() {
    DemoObjective shape = DemoObjective.create(SPACE, 26);
    for (boolean anchor : new boolean[] {true, false}) {
      SearchSpec.Builder<PairedObjective.Run> b = spec(new PairedObjective(shape::trueScore, 0.05, 0.01), 8, 4)
          .warmupEvaluations(3).maxEvaluations(20);
      if (!anchor) {
        b.noAnchor();
      }
      SearchResult result = RankAdaptor.search(b.build());
      assertThat(result.trace().stream().filter(r -> r.phase() == SearchPhase.INITIALIZATION).count())
          .as("anchor %s: the warm-up ran whole", anchor).isEqualTo(anchor ? 4 : 3);
      assertThat(result.trace()).as("anchor %s: exploration followed the warm-up", anchor)
          .anySatisfy(r -> assertThat(r.phase()).isEqualTo(SearchPhase.ITERATION));
    }
  }

  @Property(tries = 40)
  void aBatchNeverTakesTheSearchPastItsBudget(@ForAll @IntRange(min = 1, max = 5) int q,
      @ForAll @IntRange(min = 3, max = 13) int budget, @ForAll @IntRange(min = 0, max = 3) long seed) {
    DemoObjective shape = DemoObjective.create(SPACE, 24);
    SearchResult result = RankAdaptor.search(SearchSpec.builder(new BayesianRidgeModel(SPACE),
            new PairedObjective(shape::trueScore, 0.05, 0.01), new PairedObjective(shape::trueScore, 0.05, 0.01))
        .seed(seed).maxEvaluations(budget).batchSize(q).build());
    assertThat(result.trace()).hasSizeLessThanOrEqualTo(budget);
    Set<String> keys = new HashSet<>();
    result.trace().forEach(r -> assertThat(keys.add(r.config().format() + "/" + r.seed())).isTrue());
    SearchResult random = RankAdaptor.randomSearch(SearchSpec.builder(SPACE,
            new PairedObjective(shape::trueScore, 0.05, 0.01), new PairedObjective(shape::trueScore, 0.05, 0.01))
        .seed(seed).maxEvaluations(budget).batchSize(q).build());
    assertThat(random.trace()).hasSize(budget);
    assertThat(random.trace().stream().map(IterationRecord::config).distinct().count()).isEqualTo(budget);
  }

  @Test
  void everyFinishedEvaluationIsStoredOnceAndAKilledBatchLosesOnlyWhatWasInFlight() {
    DemoObjective shape = DemoObjective.create(SPACE, 25);
    SearchResult uninterrupted = RankAdaptor.search(spec(new SlowObjective(shape), 6, 3).build());
    RankConfig victim = uninterrupted.trace().stream().filter(r -> r.phase() == SearchPhase.ITERATION)
        .skip(4).findFirst().orElseThrow().config();
    Path file = dir.resolve("store.jsonl");
    List<String> storedWhenKilled;
    SlowObjective crashing = new SlowObjective(shape) {
      @Override
      public Run recover(RankConfig config, long seed) {
        if (config.equals(victim)) {
          throw new IllegalStateException("simulated crash");
        }
        return super.recover(config, seed);
      }
    };
    try (ObservationStore store = ObservationStore.open(file); EvaluationExecutor threads = EvaluationExecutor.threads(3)) {
      assertThatThrownBy(() -> RankAdaptor.search(spec(crashing, 6, 3).store(store).executor(threads).build()))
          .hasMessageContaining("simulated crash");
      storedWhenKilled = store.all().stream().map(o -> o.config().format() + "/" + o.provenance().seed()).toList();
    }
    // Everything before the killed fine-tune's batch, and its siblings that were running, are stored once.
    int victimIndex = IntStream.range(0, uninterrupted.trace().size())
        .filter(i -> uninterrupted.trace().get(i).config().equals(victim)).findFirst().orElseThrow();
    assertThat(storedWhenKilled).doesNotHaveDuplicates().doesNotContain(victim.format() + "/6");
    assertThat(storedWhenKilled.size()).isGreaterThanOrEqualTo(victimIndex - victimIndex % 3);
    try (ObservationStore store = ObservationStore.open(file); EvaluationExecutor threads = EvaluationExecutor.threads(3)) {
      SearchResult resumed = RankAdaptor.search(spec(new SlowObjective(shape), 6, 3).store(store).executor(threads).build());
      assertThat(trace(resumed)).isEqualTo(trace(uninterrupted));
      assertThat(resumed.best()).isEqualTo(uninterrupted.best());
      assertThat(resumed.newEvaluations()).isEqualTo(uninterrupted.trace().size() - storedWhenKilled.size());
      List<String> all = store.all().stream().map(o -> o.config().format() + "/" + o.provenance().seed()).toList();
      assertThat(all).doesNotHaveDuplicates().hasSize(uninterrupted.trace().size());
    }
  }

  @Test
  void theThreadsExecutorRunsABatchAtOnceAndHandsEachObservationOverOnTheCallingThread() throws Exception {
    CountDownLatch bothStarted = new CountDownLatch(2);
    RecoveryRunner<RankConfig> runner = (config, seed) -> {
      bothStarted.countDown();
      try {
        // Waits for the other fine-tune: one at a time would time out here.
        if (!bothStarted.await(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the other fine-tune never started");
        }
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      return config;
    };
    Evaluator<RankConfig> evaluator = scoring(RankConfig::totalRank);
    List<Thread> callers = Collections.synchronizedList(new ArrayList<>());
    List<Observation> got = new ArrayList<>();
    try (EvaluationExecutor threads = EvaluationExecutor.threads(2)) {
      threads.run(List.of(fineTune(RankConfig.of(2, 4), 1), fineTune(RankConfig.of(4, 4), 1)), runner, evaluator,
          o -> {
            callers.add(Thread.currentThread());
            got.add(o);
          });
    }
    assertThat(got).extracting(Observation::score).containsExactlyInAnyOrder(6.0, 8.0);
    assertThat(callers).containsOnly(Thread.currentThread());
  }

  @Test
  void aFailingFineTuneStopsTheBatchAfterItsRunningSiblingsAreHandedOver() {
    AtomicInteger started = new AtomicInteger();
    RecoveryRunner<RankConfig> runner = (config, seed) -> {
      started.incrementAndGet();
      if (config.rank(0) == 2) {
        throw new IllegalStateException("out of memory, say");
      }
      if (config.rank(0) == 10) {
        throw new RecoveryFailedException("loss became NaN");
      }
      return config;
    };
    Evaluator<RankConfig> evaluator = scoring(c -> 1);
    List<Observation> got = new ArrayList<>();
    List<FineTune> batch = List.of(fineTune(RankConfig.of(10), 1), fineTune(RankConfig.of(2), 1),
        fineTune(RankConfig.of(4), 1), fineTune(RankConfig.of(6), 1), fineTune(RankConfig.of(8), 1));
    try (EvaluationExecutor one = EvaluationExecutor.threads(1)) {
      assertThatThrownBy(() -> one.run(batch, runner, evaluator, got::add)).hasMessage("out of memory, say");
    }
    // One thread: the diverged fine-tune is a recorded failure, the crash stops the rest from starting.
    assertThat(got).singleElement().satisfies(o -> {
      assertThat(o.succeeded()).isFalse();
      assertThat(o.failure()).contains("NaN");
    });
    assertThat(started.get()).isEqualTo(2);
  }

  @Test
  void anInterruptStartsNothingMoreAndHandsOverTheRunningFineTuneFirst() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger started = new AtomicInteger();
    RecoveryRunner<RankConfig> runner = (config, seed) -> {
      started.incrementAndGet();
      running.countDown();
      try {
        release.await(10, TimeUnit.SECONDS); // a fine-tune does not stop when interrupted
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return config;
    };
    List<Observation> got = new ArrayList<>();
    List<Throwable> thrown = new ArrayList<>();
    boolean[] flagSet = new boolean[1];
    try (EvaluationExecutor one = EvaluationExecutor.threads(1)) {
      Thread caller = new Thread(() -> {
        try {
          one.run(List.of(fineTune(RankConfig.of(2), 1), fineTune(RankConfig.of(4), 1), fineTune(RankConfig.of(6), 1)),
              runner, scoring(RankConfig::totalRank), got::add);
        } catch (RuntimeException e) {
          thrown.add(e);
          flagSet[0] = Thread.currentThread().isInterrupted();
        }
      });
      caller.start();
      assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
      caller.interrupt();
      Thread.sleep(100);
      release.countDown();
      caller.join(10_000);
    }
    assertThat(got).extracting(Observation::score).containsExactly(2.0);
    assertThat(started.get()).isEqualTo(1);
    assertThat(thrown).singleElement().satisfies(e -> assertThat(e).hasMessageContaining("interrupted"));
    assertThat(flagSet[0]).isTrue();
  }

  @Test
  void aSpecIsSearchedOnceAndRandomSearchMayReuseIt() {
    DemoObjective shape = DemoObjective.create(SPACE, 27);
    SearchSpec<PairedObjective.Run> spec = spec(new PairedObjective(shape::trueScore, 0.05, 0.01), 9, 1).build();
    RankAdaptor.search(spec);
    assertThatThrownBy(() -> RankAdaptor.search(spec)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already been searched");
    assertThat(RankAdaptor.randomSearch(spec).trace()).isNotEmpty();
  }

  @Test
  void aFineTuneAndItsObservationSurviveJavaSerialisationAsADistributedExecutorShipsThem() throws Exception {
    FineTune fineTune = new FineTune("t", RankConfig.of(8, 4, 12), 3,
        new Provenance(3, "model", "data", Map.of("search.index", "7")));
    Observation observation = Observation.succeeded("t", fineTune.config(), new Evaluation(-2.5, Map.of("ppl", 12.2)),
        1.5, fineTune.provenance());
    assertThat(roundTrip(fineTune)).isEqualTo(fineTune);
    assertThat(roundTrip(observation)).isEqualTo(observation);
    assertThat(((RankConfig) roundTrip(RankConfig.of(2, 4))).hashCode()).isEqualTo(RankConfig.of(2, 4).hashCode());
  }

  private static Object roundTrip(Object value) throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(value);
    }
    try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
        new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
      return in.readObject();
    }
  }

  /** An evaluator of task "t" whose "recovered model" is the configuration itself. */
  private static Evaluator<RankConfig> scoring(java.util.function.ToDoubleFunction<RankConfig> score) {
    return new Evaluator<>() {
      @Override
      public String taskId() {
        return "t";
      }

      @Override
      public Evaluation evaluate(RankConfig model) {
        return Evaluation.of(score.applyAsDouble(model));
      }
    };
  }

  private static FineTune fineTune(RankConfig config, long seed) {
    return new FineTune("t", config, seed, Provenance.ofSeed(seed));
  }
}
