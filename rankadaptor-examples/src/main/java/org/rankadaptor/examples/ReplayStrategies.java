package org.rankadaptor.examples;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.PerformanceModel;
import org.rankadaptor.RankAdaptor;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.SearchSpec;
import org.rankadaptor.Verdict;
import org.rankadaptor.predictor.BayesianRidgeModel;
import org.rankadaptor.dl4j.predictor.MlpConfig;
import org.rankadaptor.dl4j.predictor.MlpPerformanceModel;
import org.rankadaptor.replay.RecoveryTable;
import org.rankadaptor.replay.TableReplay;

/**
 * The strategies a replay compares, and the statistics of their outcomes (kept apart from rendering,
 * which is {@link ReplayReport}'s).
 */
final class ReplayStrategies {

  /** The source tasks a table may hold for meta-learning. */
  static final List<String> SOURCE_TASKS = List.of("alpaca", "wikitext2");

  private ReplayStrategies() {}

  /**
   * A way to choose a configuration with a budget of fine-tunes.
   *
   * @param name how the report names it
   * @param run (search index, budget) to the outcome
   */
  record Strategy(String name, BiFunction<Integer, Integer, TableReplay.Outcome> run) {}

  /**
   * One strategy's outcomes over the search seeds and their statistics.
   *
   * @param name the strategy
   * @param outcomes one per search seed
   * @param meanTruth mean seed-averaged score of what it returned
   * @param meanRegret mean regret
   * @param topShare share of searches whose return is in the top 5 % of the space
   * @param falseBetter searches whose verdict "better than uniform rank 8" the table contradicts
   * @param better searches whose verdict was "better"
   * @param uniformReturned searches that returned uniform rank 8
   * @param meanFineTunes mean fine-tunes spent
   */
  record Summary(String name, List<TableReplay.Outcome> outcomes, double meanTruth, double meanRegret,
      double topShare, int falseBetter, int better, int uniformReturned, double meanFineTunes) {}

  /** The strategies: RankAdaptor's default and the paper's protocol (MLP; also the ridge model), random search, uniform rank 8. */
  static List<Strategy> all(RecoveryTable table, TableReplay replay) {
    RankSpace space = replay.space();
    boolean sources = table.tasks().containsAll(SOURCE_TASKS);
    List<Strategy> out = new ArrayList<>();
    out.add(search("RankAdaptor, default protocol, MLP, no source task", replay,
        () -> new MlpPerformanceModel(space, MlpConfig.paper()), false, false));
    if (sources) {
      out.add(search("RankAdaptor, default protocol, MLP, meta-learned on source tasks", replay,
          () -> new MlpPerformanceModel(space, MlpConfig.paper()), true, false));
    }
    out.add(search("RankAdaptor, default protocol, Bayesian ridge, no source task", replay,
        () -> new BayesianRidgeModel(space), false, false));
    out.add(search("RankAdaptor, paper protocol, MLP, no source task", replay,
        () -> new MlpPerformanceModel(space, MlpConfig.paper()), false, true));
    if (sources) {
      out.add(search("RankAdaptor, paper protocol, MLP, meta-learned on source tasks", replay,
          () -> new MlpPerformanceModel(space, MlpConfig.paper()), true, true));
    }
    out.add(new Strategy("Random search (best single measurement)", (i, budget) ->
        replay.judge(RankAdaptor.randomSearch(replay.spec(null, i).maxEvaluations(budget).build()))));
    out.add(new Strategy("Uniform rank 8", (i, budget) ->
        replay.judge(space.uniform(RankSpace.DEFAULT_PINNED_RANK), Optional.empty(), 1)));
    return out;
  }

  private static Strategy search(String name, TableReplay replay, java.util.function.Supplier<PerformanceModel> model,
      boolean withSources, boolean paper) {
    return search(name, replay, model, withSources, paper, 1);
  }

  private static Strategy search(String name, TableReplay replay, java.util.function.Supplier<PerformanceModel> model,
      boolean withSources, boolean paper, int batchSize) {
    return new Strategy(name, (i, budget) -> {
      SearchSpec.Builder<RecoveryTable.Row> b = replay.spec(model.get(), i).maxEvaluations(budget).batchSize(batchSize);
      if (withSources) {
        ObservationStore store = ObservationStore.inMemory();
        replay.addSources(store, SOURCE_TASKS);
        b.store(store).sourceTasks(SOURCE_TASKS.toArray(String[]::new));
      } else {
        b.metaLearning(false);
      }
      if (paper) {
        b.paperProtocol();
      }
      return replay.judge(RankAdaptor.search(b.build()));
    });
  }

  /**
   * What choosing several configurations at once costs: a model's default protocol (no source task) at one
   * batch size and budget, its mean regret, and the paired difference from batches of one at the same
   * budget over the same search seeds.
   *
   * @param model the performance model's name
   * @param batchSize configurations chosen per iteration
   * @param budget fine-tunes per search
   * @param meanRegret mean regret over the search seeds
   * @param difference mean of regret at this batch size minus regret with batches of one, per search seed
   * @param lower lower end of the difference's 95 % interval (paired t)
   * @param upper upper end
   */
  record BatchCost(String model, int batchSize, int budget, double meanRegret, double difference, double lower,
      double upper) {}

  /** The performance models the batch table compares, by name. */
  static Map<String, java.util.function.Supplier<PerformanceModel>> batchModels(RankSpace space) {
    Map<String, java.util.function.Supplier<PerformanceModel>> out = new LinkedHashMap<>();
    out.put("MLP", () -> new MlpPerformanceModel(space, MlpConfig.paper()));
    out.put("Bayesian ridge", () -> new BayesianRidgeModel(space));
    return out;
  }

  /** Every model at every batch size and budget, over search seeds 0 .. searches - 1. */
  static List<BatchCost> batchCosts(TableReplay replay, List<Integer> batchSizes, List<Integer> budgets, int searches) {
    List<BatchCost> out = new ArrayList<>();
    for (Map.Entry<String, java.util.function.Supplier<PerformanceModel>> m : batchModels(replay.space()).entrySet()) {
      for (int budget : budgets) {
        double[] single = null;
        for (int q : batchSizes) {
          Strategy strategy = search(m.getKey() + ", q " + q, replay, m.getValue(), false, false, q);
          double[] regret = run(strategy, replay, searches, budget).outcomes().stream()
              .mapToDouble(TableReplay.Outcome::regret).toArray();
          if (single == null) {
            single = regret;
          }
          double[] d = new double[searches];
          for (int i = 0; i < searches; i++) {
            d[i] = regret[i] - single[i];
          }
          double mean = java.util.Arrays.stream(d).average().orElseThrow();
          double ss = java.util.Arrays.stream(d).map(x -> (x - mean) * (x - mean)).sum();
          double se = searches > 1 ? Math.sqrt(ss / (searches - 1) / searches) : Double.NaN;
          double t = searches > 1 ? new org.apache.commons.math3.distribution.TDistribution(null, searches - 1)
              .inverseCumulativeProbability(0.975) : Double.NaN;
          out.add(new BatchCost(m.getKey(), q, budget, java.util.Arrays.stream(regret).average().orElseThrow(), mean,
              mean - t * se, mean + t * se));
        }
      }
    }
    return out;
  }

  /** Runs a strategy for search seeds 0 .. searches - 1. */
  static Summary run(Strategy strategy, TableReplay replay, int searches, int budget) {
    List<TableReplay.Outcome> outcomes = new ArrayList<>();
    for (int i = 0; i < searches; i++) {
      outcomes.add(strategy.run().apply(i, budget));
    }
    int top = topCount(replay);
    RankConfig uniform = replay.space().uniform(RankSpace.DEFAULT_PINNED_RANK);
    return new Summary(strategy.name(), outcomes,
        outcomes.stream().mapToDouble(TableReplay.Outcome::truth).average().orElseThrow(),
        outcomes.stream().mapToDouble(TableReplay.Outcome::regret).average().orElseThrow(),
        outcomes.stream().filter(o -> o.rank() < top).count() / (double) searches,
        (int) outcomes.stream().filter(TableReplay.Outcome::falseBetter).count(),
        (int) outcomes.stream().filter(o -> o.verdict().filter(v -> v == Verdict.BETTER).isPresent()).count(),
        (int) outcomes.stream().filter(o -> o.returned().equals(uniform)).count(),
        outcomes.stream().mapToInt(TableReplay.Outcome::fineTunes).average().orElseThrow());
  }

  /** How many configurations make the top 5 % of the space (at least one). */
  static int topCount(TableReplay replay) {
    return Math.max(1, (int) Math.ceil(0.05 * replay.ranked().size()));
  }
}
