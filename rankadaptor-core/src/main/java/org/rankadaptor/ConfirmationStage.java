package org.rankadaptor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BiPredicate;

/**
 * The confirmation stage's decision, once its fine-tunes are done: which contenders and seeds can be
 * compared, each finalist's paired mean, the best one against the anchor with a confidence interval,
 * and the recommendation with its reason. A pure function of the measurements, kept apart from the
 * search loop that makes them.
 */
final class ConfirmationStage {
  private ConfirmationStage() {}

  /**
   * @param contenders the anchor (if measured) and the finalists, in the order they were chosen
   * @param primarySeed the seed every contender was first measured with
   * @param seeds the confirmation seeds
   * @param scores successful scores by configuration and seed
   * @param attempted whether a configuration was recovered with a seed (successfully or not)
   * @param anchor the baseline of the verdict, if any
   * @param space the search space, whose budget prices a configuration
   * @param confidence two-sided confidence before the adjustment for several finalists
   * @param taskId the target task, for messages
   * @throws RankAdaptorException if no contender was measured with every compared seed
   */
  static Confirmation decide(List<RankConfig> contenders, long primarySeed, List<Long> seeds,
      Map<RankConfig, Map<Long, Double>> scores, BiPredicate<RankConfig, Long> attempted,
      Optional<RankConfig> anchor, RankSpace space, double confidence, String taskId) {
    BiPredicate<RankConfig, Long> measured = (c, seed) -> scores.getOrDefault(c, Map.of()).containsKey(seed);
    // A contender whose recovery failed on a seed leaves; a seed the budget did not reach for every
    // remaining contender is left out of the comparison.
    List<RankConfig> alive = new ArrayList<>(contenders);
    alive.removeIf(c -> seeds.stream().anyMatch(s -> attempted.test(c, s) && !measured.test(c, s)));
    // When the budget ran out within a seed, a finalist it did not reach leaves rather than the seed,
    // as long as the anchor and another finalist keep every seed.
    List<RankConfig> complete = alive.stream().filter(c -> seeds.stream().allMatch(s -> measured.test(c, s))).toList();
    boolean anchorKept = anchor.map(complete::contains).orElse(true) || anchor.filter(alive::contains).isEmpty();
    if (complete.size() >= 2 && complete.size() < alive.size() && anchorKept) {
      alive = new ArrayList<>(complete);
    }
    List<Long> common = new ArrayList<>();
    common.add(primarySeed);
    for (long seed : seeds) {
      if (alive.stream().allMatch(c -> measured.test(c, seed))) {
        common.add(seed);
      }
    }
    List<Finalist> finalists = new ArrayList<>();
    for (RankConfig c : alive) {
      finalists.add(finalist(c, common, scores.get(c), space));
    }
    if (finalists.isEmpty()) {
      throw new RankAdaptorException("the confirmation stage on " + taskId + " has no finalist measured with "
          + "every seed " + common);
    }
    finalists.sort(Comparator.comparingDouble(Finalist::mean).reversed().thenComparing(Finalist::config));
    Finalist best = finalists.get(0);
    Optional<Finalist> anchorFinalist =
        anchor.flatMap(a -> finalists.stream().filter(f -> f.config().equals(a)).findFirst());
    if (anchorFinalist.isEmpty() || best.config().equals(anchor.get())) {
      String reason = anchorFinalist.isPresent()
          ? String.format(Locale.ROOT, "the anchor %s had the best mean over %d paired seeds (%.5f)",
              best.config().format(), common.size(), best.mean())
          : String.format(Locale.ROOT, "%s had the best mean over %d paired seeds (%.5f)%s", best.config().format(),
              common.size(), best.mean(), anchor.isPresent() ? "; the anchor could not be compared" : "");
      return new Confirmation(finalists, Optional.empty(), best.config(), reason);
    }
    Finalist a = anchorFinalist.get();
    if (common.size() < 2) {
      return new Confirmation(finalists, Optional.empty(), best.config(),
          "one paired seed only: " + best.config().format() + " measured best, no interval can be given");
    }
    double[] differences = new double[common.size()];
    for (int i = 0; i < differences.length; i++) {
      differences[i] = best.scores().get(common.get(i)) - a.scores().get(common.get(i));
    }
    // Bonferroni: the best of several finalists is compared, so each comparison gets a share of the error.
    int compared = finalists.size() - 1;
    PairedComparison comparison = PairedComparison.of(best.config(), a.config(), common, differences,
        1 - (1 - confidence) / compared);
    return switch (comparison.verdict()) {
      case BETTER -> new Confirmation(finalists, Optional.of(comparison), best.config(),
          best.config().format() + " is better than " + a.config().format() + ": " + comparison.describe());
      case WORSE -> new Confirmation(finalists, Optional.of(comparison), a.config(),
          best.config().format() + " is worse than " + a.config().format() + ": " + comparison.describe());
      case NO_DETECTABLE_DIFFERENCE -> {
        // The cheaper one; at equal cost the better paired mean, which is the finalist's.
        boolean keep = best.cost() <= a.cost();
        RankConfig recommended = keep ? best.config() : a.config();
        // Without a budget the space cannot price parameters, and total rank stands in for them.
        String unit = space.budget().isPresent() ? "LoRA parameters" : "units of total rank";
        String why = best.cost() == a.cost()
            ? String.format(Locale.ROOT, "it costs as many %s (%d) and had the better mean", unit, a.cost())
            : String.format(Locale.ROOT, "it needs fewer %s (%d against %d)", unit,
                Math.min(best.cost(), a.cost()), Math.max(best.cost(), a.cost()));
        yield new Confirmation(finalists, Optional.of(comparison), recommended, String.format(Locale.ROOT,
            "no detectable difference between %s and %s (%s); %s is recommended because %s", best.config().format(),
            a.config().format(), comparison.describe(), recommended.format(), why));
      }
    };
  }

  /** A contender's scores over the compared seeds, their mean and standard error, and its LoRA cost. */
  private static Finalist finalist(RankConfig config, List<Long> seeds, Map<Long, Double> scores, RankSpace space) {
    Map<Long, Double> s = new TreeMap<>();
    double sum = 0;
    for (long seed : seeds) {
      double v = scores.get(seed);
      s.put(seed, v);
      sum += v;
    }
    double mean = sum / seeds.size();
    double ss = 0;
    for (double v : s.values()) {
      ss += (v - mean) * (v - mean);
    }
    double se = seeds.size() > 1 ? Math.sqrt(ss / (seeds.size() - 1) / seeds.size()) : Double.NaN;
    long cost = space.trainableParameters(config).orElse((long) config.totalRank());
    return new Finalist(config, s, mean, se, cost);
  }
}
