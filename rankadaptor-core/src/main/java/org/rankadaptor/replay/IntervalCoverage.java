package org.rankadaptor.replay;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.rankadaptor.Evaluation;
import org.rankadaptor.Observation;
import org.rankadaptor.PerformanceModel;
import org.rankadaptor.Predictions;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankConfig;

/**
 * How often a performance model's predicted intervals cover measurements it has not seen, on a
 * {@link TableReplay}'s table: a model is fed some configurations' scores with the table's first seed,
 * one at a time as a search feeds them, and predicts the others' scores with that seed.
 *
 * @param withNoise share covered by {@code mean ± z sqrt(std² + noise²)}, the model's spread widened by
 *     the table's noise of one fine-tune
 * @param modelOnly share covered by {@code mean ± z std}, the model's own spread
 * @param noise the table's noise of one fine-tune ({@link TableReplay#noise()})
 * @param predictions held-out predictions counted
 * @since 0.1.0
 */
public record IntervalCoverage(double withNoise, double modelOnly, double noise, int predictions) {

  /**
   * @param models a fresh model for each draw (its index given), with uncertainty
   * @param train configurations the model learns per draw
   * @param draws training sets, each drawn with {@code new Random(draw)}
   * @param level the intervals' two-sided nominal level, such as 0.8
   */
  public static IntervalCoverage measure(TableReplay replay, IntFunction<PerformanceModel> models, int train,
      int draws, double level) {
    checkArgument(level > 0 && level < 1, "level must be in (0, 1), got %s", level);
    List<RankConfig> all = replay.ranked().stream().sorted().toList();
    checkArgument(train >= 1 && train < all.size(), "train must be in 1..%s, got %s", all.size() - 1, train);
    long seed = replay.seeds().get(0);
    double z = new NormalDistribution(null, 0, 1).inverseCumulativeProbability(0.5 + level / 2);
    double noise = replay.noise();
    int covered = 0;
    int coveredModelOnly = 0;
    int total = 0;
    for (int draw = 0; draw < draws; draw++) {
      List<RankConfig> configs = new ArrayList<>(all);
      Collections.shuffle(configs, new Random(draw));
      PerformanceModel model = models.apply(draw);
      checkArgument(model.hasUncertainty(), "coverage needs a model with uncertainty");
      for (RankConfig c : configs.subList(0, train)) {
        model.update(List.of(Observation.succeeded(replay.task(), c, Evaluation.of(replay.score(c, seed)), 0,
            Provenance.ofSeed(seed))));
      }
      List<RankConfig> heldOut = configs.subList(train, configs.size());
      Predictions p = model.predict(heldOut);
      for (int i = 0; i < heldOut.size(); i++) {
        double error = Math.abs(replay.score(heldOut.get(i), seed) - p.mean()[i]);
        covered += error <= z * Math.sqrt(p.std()[i] * p.std()[i] + noise * noise) ? 1 : 0;
        coveredModelOnly += error <= z * p.std()[i] ? 1 : 0;
        total++;
      }
    }
    return new IntervalCoverage((double) covered / total, (double) coveredModelOnly / total, noise, total);
  }
}
