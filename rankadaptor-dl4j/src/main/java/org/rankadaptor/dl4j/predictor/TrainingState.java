package org.rankadaptor.dl4j.predictor;

import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * Everything training changes, replaced as a whole. The members are never trained in place once
 * they are part of a state.
 */
final class TrainingState {
  final List<Member> members; // (member)
  final MlpScorer scorer;
  final double priorMean; // target mean before any target observation
  final double priorStd; // target scale before MIN_OWN_SCALE target observations
  final int sourceTasks;
  final int sourceObservations;
  final List<Example> replay; // the most recent target observations, oldest first
  final long count; // target observations ever learned
  final double sum; // of their scores
  final double sumSquares;
  final int trainings; // training calls since the last meta-learning; seeds mini-batch order

  TrainingState(List<Member> members, MlpScorer scorer, double priorMean, double priorStd, int sourceTasks,
      int sourceObservations, List<Example> replay, long count, double sum, double sumSquares, int trainings) {
    this.members = ImmutableList.copyOf(members);
    this.scorer = scorer;
    this.priorMean = priorMean;
    this.priorStd = priorStd;
    this.sourceTasks = sourceTasks;
    this.sourceObservations = sourceObservations;
    this.replay = ImmutableList.copyOf(replay);
    this.count = count;
    this.sum = sum;
    this.sumSquares = sumSquares;
    this.trainings = trainings;
  }

  static TrainingState initial(List<Member> members) {
    return new TrainingState(members, MlpPerformanceModel.scorerOf(members), 0, 1, 0, 0, ImmutableList.of(), 0, 0, 0,
        0);
  }

  /** One target observation kept for replay. */
  record Example(float[] x /* (searched layer) normalised */, double y) {}

  // --- the target scale: the task's own once it has enough observations, else the prior's ----------

  static double targetMean(double priorMean, long count, double sum) {
    return count >= 1 ? sum / count : priorMean;
  }

  static double targetStd(double priorStd, long count, double sum, double sumSquares) {
    if (count >= MlpPerformanceModel.MIN_OWN_SCALE) {
      double mean = sum / count;
      double variance = sumSquares / count - mean * mean;
      if (variance > 1e-12) {
        return Math.sqrt(variance);
      }
    }
    return priorStd;
  }

  static double mean(double[] y) {
    return sum(y) / y.length;
  }

  static double sum(double[] y) {
    double s = 0;
    for (double v : y) {
      s += v;
    }
    return s;
  }

  static double sumSquares(double[] y) {
    double s = 0;
    for (double v : y) {
      s += v * v;
    }
    return s;
  }

  static double std(double[] y, double mean) {
    double s = 0;
    for (double v : y) {
      s += (v - mean) * (v - mean);
    }
    double std = y.length > 1 ? Math.sqrt(s / y.length) : 0;
    return std > 1e-12 ? std : 1.0;
  }
}
