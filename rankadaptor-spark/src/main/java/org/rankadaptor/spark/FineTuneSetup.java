package org.rankadaptor.spark;

import java.io.Serializable;
import org.rankadaptor.Evaluator;
import org.rankadaptor.RecoveryRunner;

/**
 * How a Spark executor builds the runner and the evaluator of a search: a small description (where the
 * model and the data lie, the pruning and recovery settings) that Spark ships to each executor instead of
 * the model itself. Built once per executor JVM and reused by every fine-tune it runs there, so make it a
 * value with {@code equals} and {@code hashCode} (a record, say).
 *
 * <p>What it builds must be what the searching process uses: the executor checks that the runner's and
 * the evaluator's fingerprints equal the ones the search recorded, and refuses to run otherwise. Paths it
 * names must be readable from every executor (shared storage).
 *
 * @param <M> the recovered model
 * @since 0.1.0
 */
public interface FineTuneSetup<M> extends Serializable {

  /**
   * What the setup builds: the recovery runner and the evaluator of the search's task.
   *
   * @param <M> the recovered model
   * @param runner recovers a configuration with a seed
   * @param evaluator scores a recovered model on the search's task
   */
  record Built<M>(RecoveryRunner<M> runner, Evaluator<M> evaluator) {
    /**
     * Both are required.
     *
     * @param runner recovers a configuration with a seed
     * @param evaluator scores a recovered model on the search's task
     */
    public Built {
      java.util.Objects.requireNonNull(runner, "runner");
      java.util.Objects.requireNonNull(evaluator, "evaluator");
    }
  }

  /**
   * Builds the runner and the evaluator; called once per executor JVM and device (and by the driver,
   * for the search).
   *
   * @return the runner and the evaluator
   */
  Built<M> build();

  /**
   * Binds the calling thread to the accelerator Spark assigned the task ({@code TaskContext}'s
   * {@code gpu} resource), before its fine-tune runs there. By default nothing: a CPU setup, or one
   * where each executor sees a single device.
   *
   * @param address the GPU address Spark assigned, such as {@code "0"}
   */
  default void bindDevice(String address) {}
}
