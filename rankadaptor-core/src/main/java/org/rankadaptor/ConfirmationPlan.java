package org.rankadaptor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Which configurations the confirmation stage will compare, and what that costs the exploration: the
 * ranking by the model, the contenders taken from it and from the measurements, and the fine-tunes left
 * to explore once the confirmation's share of the budget is kept back.
 *
 * <p>Apart from {@link Search} because the search asks these questions at every step (the stopping rule,
 * the noise replicates, the budget, the final stage) and they only read its state.
 */
final class ConfirmationPlan<M> {
  private final SearchSpec<M> spec;
  private final SearchLedger<M> ledger;
  private final PerformanceModel model;
  private final long primarySeed;

  ConfirmationPlan(SearchSpec<M> spec, SearchLedger<M> ledger, PerformanceModel model) {
    this.spec = spec;
    this.ledger = ledger;
    this.model = model;
    this.primarySeed = spec.recoverySeed();
  }

  /**
   * The anchor (if any) and up to {@code finalists} configurations taken in turn from two rankings: by
   * the model's predicted mean (which pools neighbouring measurements, so it is less often fooled by a
   * lucky one) and by the measurement itself (which a smooth model can miss when one configuration
   * stands apart).
   */
  List<RankConfig> contenders() {
    List<RankConfig> out = new ArrayList<>();
    spec.anchor().filter(ledger::succeededWithPrimarySeed).ifPresent(out::add);
    List<RankConfig> byModel = ranked();
    List<RankConfig> byMeasurement = ledger.bestEvaluated(Integer.MAX_VALUE);
    int added = 0;
    for (int i = 0; added < spec.finalists() && i < byModel.size(); i++) {
      for (RankConfig c : List.of(byModel.get(i), byMeasurement.get(i))) {
        if (added < spec.finalists() && !out.contains(c)) {
          out.add(c);
          added++;
        }
      }
    }
    return out;
  }

  /**
   * The configurations measured successfully with the primary seed, best first by the model's predicted
   * mean (which pools neighbouring measurements and so is less lucky than any single one), ties by
   * the measurement.
   */
  List<RankConfig> ranked() {
    List<RankConfig> configs = ledger.succeeded();
    if (configs.isEmpty()) {
      return List.of();
    }
    double[] predicted = model.predict(configs).mean();
    Integer[] order = new Integer[configs.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -predicted[i])
        .thenComparingDouble(i -> -ledger.evaluated().get(configs.get(i)).score())
        .thenComparing(i -> configs.get(i)));
    List<RankConfig> out = new ArrayList<>();
    for (int i : order) {
      out.add(configs.get(i));
    }
    return out;
  }

  /** The model's predicted mean of the best configuration measured so far, or NaN before any. */
  double incumbentPredicted() {
    List<RankConfig> configs = ledger.succeeded();
    return configs.isEmpty() ? Double.NaN : max(model.predict(configs).mean());
  }

  /**
   * Fine-tunes left for exploration: the budget less the trace and less what the confirmation stage will
   * need for the anchor and the current (or future) finalists.
   */
  int explorationLeft() {
    int reserve = 0;
    if (spec.confirms()) {
      List<RankConfig> contenders = contenders();
      List<Long> seeds = spec.replicateSeeds().subList(0, spec.confirmationSeeds());
      for (RankConfig c : contenders) {
        for (long seed : seeds) {
          reserve += ledger.attempted(c, seed) ? 0 : 1;
        }
      }
      RankConfig anchor = spec.anchor().orElse(null);
      int anchorSlot = anchor != null && contenders.contains(anchor) ? 1 : 0;
      if (anchor != null && anchorSlot == 0 && !ledger.attempted(anchor, primarySeed)) {
        reserve += spec.confirmationSeeds();
      }
      int finalistsSoFar = contenders.size() - anchorSlot;
      if (finalistsSoFar == 0) {
        // Nothing explored yet: whatever the confirmation would like, explore one configuration.
        return Math.min(1, spec.maxEvaluations() - ledger.trace().size());
      }
      // Room for further finalists only where the budget can explore and confirm them.
      int free = Math.max(0, spec.maxEvaluations() - ledger.trace().size() - reserve);
      int future = Math.min(spec.finalists() - finalistsSoFar, free / (spec.confirmationSeeds() + 1));
      reserve += future * spec.confirmationSeeds();
    }
    return spec.maxEvaluations() - ledger.trace().size() - reserve;
  }

  private static double max(double[] values) {
    double best = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      best = Math.max(best, v);
    }
    return best;
  }
}
