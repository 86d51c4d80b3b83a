package org.rankadaptor;

import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Scores a recovered model on a task (or several, see {@link #mean}). Higher scores are better: an
 * accuracy as it is, a perplexity through a decreasing transform such as its negative logarithm.
 *
 * @param <M> the recovered model
 * @since 0.1.0
 */
public interface Evaluator<M> {

  /** Identifies the task; observations are stored under it. */
  String taskId();

  /** Measures the model. */
  Evaluation evaluate(M model);

  /** Identifies the evaluation data and settings; stored observations are reused only when it matches. */
  default String fingerprint() {
    return "";
  }

  /**
   * An evaluator whose score is the mean of several evaluators' scores, with every metric kept under
   * {@code <taskId>/<metric>} and each task's score under {@code <taskId>}.
   */
  static <M> Evaluator<M> mean(String taskId, List<? extends Evaluator<M>> tasks) {
    if (tasks.isEmpty()) {
      throw new IllegalArgumentException("a mean of evaluators needs at least one evaluator");
    }
    List<Evaluator<M>> parts = ImmutableList.copyOf(tasks);
    return new Evaluator<>() {
      @Override
      public String taskId() {
        return taskId;
      }

      @Override
      public Evaluation evaluate(M model) {
        Map<String, Double> metrics = new TreeMap<>();
        double sum = 0;
        for (Evaluator<M> part : parts) {
          Evaluation e = part.evaluate(model);
          sum += e.score();
          metrics.put(part.taskId(), e.score());
          e.metrics().forEach((name, value) -> metrics.put(part.taskId() + "/" + name, value));
        }
        return new Evaluation(sum / parts.size(), metrics);
      }

      @Override
      public String fingerprint() {
        StringBuilder sb = new StringBuilder();
        for (Evaluator<M> part : parts) {
          sb.append(part.taskId()).append('=').append(part.fingerprint()).append(';');
        }
        return sb.toString();
      }
    };
  }
}
