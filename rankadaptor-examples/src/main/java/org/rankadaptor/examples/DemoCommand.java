package org.rankadaptor.examples;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.rankadaptor.ObservationStore;
import org.rankadaptor.RankAdaptor;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.SearchResult;
import org.rankadaptor.SearchSpec;
import org.rankadaptor.demo.BayesianRidgeModel;
import org.rankadaptor.demo.DemoObjective;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The built-in demonstration: the search on the core's demonstration objective, against random search
 * and uniform ranks with the same number of evaluations. Needs no files and no tensor library.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
        "Runs RankAdaptor on the built-in demonstration objective (the paper's 32-layer space, layers",
        "4..29 searched) after meta-learning on related source tasks, and compares it with random",
        "search and uniform rank 8 at the same number of evaluations."})
final class DemoCommand implements Callable<Integer> {

  @Option(names = "--seed", defaultValue = "42", description = "Seed of every random choice (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--evaluations", defaultValue = "30", description = "Budget of evaluations per strategy (default: ${DEFAULT-VALUE}).")
  int evaluations;

  @Option(names = "--source-tasks", defaultValue = "3", description = "Related source tasks for meta-learning (default: ${DEFAULT-VALUE}).")
  int sourceTasks;

  @Override
  public Integer call() {
    PrintStream out = System.out;
    RankSpace space = RankSpace.paperSetting();
    ObservationStore store = ObservationStore.inMemory();
    for (int task = 1; task <= sourceTasks; task++) {
      DemoObjective source = DemoObjective.task(space, seed, task, 0.25, 0.01);
      RankAdaptor.randomSearch(SearchSpec.builder(new BayesianRidgeModel(space), source, source)
          .seed(seed + task).store(store).maxEvaluations(60).build());
    }
    DemoObjective target = DemoObjective.task(space, seed, 0, 0.25, 0.01);
    SearchResult search = RankAdaptor.search(SearchSpec.builder(new BayesianRidgeModel(space), target, target)
        .seed(seed).store(store).maxEvaluations(evaluations).convergence(0.005, 2).build());
    SearchResult random = RankAdaptor.randomSearch(SearchSpec.builder(new BayesianRidgeModel(space), target, target)
        .seed(seed).store(store).maxEvaluations(search.trace().size()).build());
    RankConfig optimum = target.optimum();
    double best = target.trueScore(optimum);

    out.printf(Locale.ROOT, "%nRankAdaptor demo: %s; %d source tasks x 60 evaluations for meta-learning%n",
        space.describe(), sourceTasks);
    out.printf(Locale.ROOT, "%-32s %11s %12s %10s  %s%n", "strategy", "evaluations", "true score", "regret", "ranks of layers 4..29");
    row(out, "RankAdaptor (" + search.stopReason().name().toLowerCase(Locale.ROOT) + ")", search.trace().size(),
        target.trueScore(search.best()), best, search.best());
    row(out, "random search", random.trace().size(), target.trueScore(random.best()), best, random.best());
    row(out, "uniform rank 8", 1, target.trueScore(space.uniform(8)), best, space.uniform(8));
    row(out, "optimum (exact)", 0, best, best, optimum);
    out.printf(Locale.ROOT, "%nTrue scores are noise-free; each evaluation measured them with noise of sd 0.01.%n");
    return 0;
  }

  private static void row(PrintStream out, String name, int evaluations, double score, double best, RankConfig config) {
    StringBuilder ranks = new StringBuilder();
    for (int layer = 4; layer <= 29; layer++) {
      ranks.append(layer > 4 ? "," : "").append(config.rank(layer));
    }
    out.printf(Locale.ROOT, "%-32s %11d %12.4f %10.4f  %s%n", name, evaluations, score, best - score, ranks);
  }
}
