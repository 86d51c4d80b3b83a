package org.rankadaptor.replay;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.rankadaptor.Evaluation;
import org.rankadaptor.Observation;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.Provenance;
import org.rankadaptor.PerformanceModel;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.RecoveryRunner;
import org.rankadaptor.SearchResult;
import org.rankadaptor.SearchSpec;
import org.rankadaptor.Verdict;

/**
 * Searches replayed on a {@link RecoveryTable} and judged by the table's seed-averaged scores: what a
 * search strategy returns on average, measured without one real fine-tune.
 *
 * <p>Search {@code i} uses the table's recovery seeds rotated by {@code i}: its primary seed is the
 * {@code i}-th (modulo their number) and its replicate seeds the ones after it, so that different
 * searches meet different seed noise, as different users would. A configuration's truth is its score
 * averaged over every seed the table holds for all configurations.
 *
 * @since 0.1.0
 */
public final class TableReplay {

  /**
   * How one search did.
   *
   * @param returned the configuration the search returned
   * @param truth its seed-averaged score in the table
   * @param regret the best truth in the space minus {@code truth}
   * @param rank its position among the space's configurations by truth (0 = the best)
   * @param verdict the search's verdict against the anchor, when it gave one
   * @param falseBetter whether the verdict said better than uniform rank 8 although the table's
   *     seed-averaged score of the returned configuration is not above uniform rank 8's
   * @param fineTunes fine-tunes the search ran
   */
  public record Outcome(RankConfig returned, double truth, double regret, int rank, Optional<Verdict> verdict,
      boolean falseBetter, int fineTunes) {}

  private final RecoveryTable table;
  private final RankSpace space;
  private final String task;
  private final List<Long> seeds;
  private final List<RankConfig> ranked; // the space's configurations, best truth first
  private final Map<RankConfig, Double> truth = new HashMap<>();

  /**
   * @param space the search space; every configuration in it must have a row for every common seed
   * @param task the task the searches optimise and are judged on
   */
  public TableReplay(RecoveryTable table, RankSpace space, String task) {
    this.table = Objects.requireNonNull(table, "table");
    this.space = Objects.requireNonNull(space, "space");
    this.task = Objects.requireNonNull(task, "task");
    this.seeds = table.commonSeeds();
    checkArgument(seeds.size() >= 2, "a replay needs at least two seeds shared by every configuration, got %s", seeds);
    List<RankConfig> configs = space.enumerate();
    for (RankConfig c : configs) {
      truth.put(c, table.meanScore(c, task, seeds));
    }
    this.ranked = configs.stream().sorted(Comparator.comparingDouble((RankConfig c) -> -truth.get(c))
        .thenComparing(Comparator.naturalOrder())).toList();
  }

  /** The recovery seeds, rotated for search {@code i}: its primary seed first. */
  public List<Long> seedsFor(int search) {
    List<Long> out = new ArrayList<>();
    for (int k = 0; k < seeds.size(); k++) {
      out.add(seeds.get(Math.floorMod(search + k, seeds.size())));
    }
    return out;
  }

  /**
   * A spec for search {@code i} over the table: its seed, primary and replicate recovery seeds, a fresh
   * in-memory store, the table's runner and the task's evaluator. Further settings are the caller's.
   *
   * @param model the performance model, or {@code null} for random search
   */
  public SearchSpec.Builder<RecoveryTable.Row> spec(PerformanceModel model, int search) {
    List<Long> rotated = seedsFor(search);
    RecoveryRunner<RecoveryTable.Row> runner = table.runner();
    SearchSpec.Builder<RecoveryTable.Row> b = model == null
        ? SearchSpec.builder(space, runner, table.evaluator(task))
        : SearchSpec.builder(model, runner, table.evaluator(task));
    long[] replicates = rotated.subList(1, rotated.size()).stream().mapToLong(Long::longValue).toArray();
    return b.seed(search).recoverySeed(rotated.get(0)).replicateSeeds(replicates).store(ObservationStore.inMemory());
  }

  /**
   * Appends the table's measurements of other tasks (source tasks for meta-learning) to a store, as a
   * pipeline would have measured them before the search.
   *
   * @throws IllegalArgumentException if the table has no score for a source task
   */
  public void addSources(ObservationStore store, List<String> sourceTasks) {
    for (String source : sourceTasks) {
      checkArgument(!source.equals(task), "the target task %s cannot be a source", task);
      checkArgument(table.tasks().contains(source), "the table has no task '%s'; it has %s", source, table.tasks());
      for (RankConfig c : table.configs()) {
        if (!space.contains(c)) {
          continue;
        }
        for (long seed : table.seeds(c)) {
          table.score(c, seed, source).ifPresent(score -> store.append(Observation.succeeded(source, c,
              Evaluation.of(score), 0, new Provenance(seed, "recovery-table", "", Map.of()))));
        }
      }
    }
  }

  /** Judges what a search returned. */
  public Outcome judge(SearchResult result) {
    return judge(result.best(), result.verdict(), result.fineTunes());
  }

  /** Judges a configuration returned by any method (uniform rank 8, say: no verdict, no fine-tune search). */
  public Outcome judge(RankConfig returned, Optional<Verdict> verdict, int fineTunes) {
    Double t = truth.get(returned);
    checkArgument(t != null, "%s is not in the replay's space", returned);
    double uniform = uniformTruth();
    boolean falseBetter = verdict.filter(v -> v == Verdict.BETTER).isPresent() && !(t > uniform);
    return new Outcome(returned, t, best() - t, ranked.indexOf(returned), verdict, falseBetter, fineTunes);
  }

  /** The best seed-averaged score in the space. */
  public double best() {
    return truth.get(ranked.get(0));
  }

  /** Uniform rank 8's seed-averaged score. */
  public double uniformTruth() {
    return truth.get(space.uniform(RankSpace.DEFAULT_PINNED_RANK));
  }

  /** A configuration's score with one seed. */
  double score(RankConfig config, long seed) {
    return table.score(config, seed, task).orElseThrow(() -> new IllegalArgumentException(
        "the table has no " + task + " score for " + config.format() + " with seed " + seed));
  }

  /** The seed-averaged score of a configuration of the space. */
  public double truth(RankConfig config) {
    Double t = truth.get(config);
    checkArgument(t != null, "%s is not in the replay's space", config);
    return t;
  }

  /** The space's configurations, best seed-averaged score first. */
  public List<RankConfig> ranked() {
    return ranked;
  }

  /** The seeds the truth averages over. */
  public List<Long> seeds() {
    return seeds;
  }

  /**
   * The noise of one fine-tune in this table: the standard deviation of a score around its
   * configuration's seed-averaged score plus its seed's shift shared by every configuration (the
   * residual of an additive configuration-plus-seed fit over the space and the common seeds).
   */
  public double noise() {
    double grand = ranked.stream().mapToDouble(truth::get).average().orElseThrow();
    double[] seedMean = new double[seeds.size()];
    for (int s = 0; s < seeds.size(); s++) {
      long seed = seeds.get(s);
      seedMean[s] = ranked.stream().mapToDouble(c -> table.score(c, seed, task).getAsDouble()).average().orElseThrow();
    }
    double ss = 0;
    for (RankConfig c : ranked) {
      for (int s = 0; s < seeds.size(); s++) {
        double r = table.score(c, seeds.get(s), task).getAsDouble() - truth.get(c) - seedMean[s] + grand;
        ss += r * r;
      }
    }
    return Math.sqrt(ss / ((ranked.size() - 1) * (seeds.size() - 1)));
  }

  /** The task the searches optimise and are judged on. */
  public String task() {
    return task;
  }

  /** The replayed space. */
  public RankSpace space() {
    return space;
  }
}
