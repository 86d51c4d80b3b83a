package org.rankadaptor;

import java.util.List;
import java.util.function.Consumer;

/**
 * Runs a search's fine-tunes: one after another ({@link #sequential()}, the default), several at once
 * in this process ({@link #threads(int)}), or elsewhere (the {@code rankadaptor-spark} module runs them
 * as Spark tasks). The search decides what to run from finished batches only, so a seed gives the same
 * trace whatever the executor and whatever order the fine-tunes finish in.
 *
 * <p>An executor may be shared by searches that run one after another; running two searches through one
 * executor at the same time is allowed where the runner and evaluator allow it.
 *
 * @since 0.1.0
 */
public interface EvaluationExecutor extends AutoCloseable {

  /**
   * Runs every fine-tune of a batch and hands each observation to {@code finished} as soon as it is
   * known, on the calling thread, one at a time, in any order. Returns once every fine-tune has finished.
   * A fine-tune whose runner throws something other than a {@link RecoveryFailedException} stops the
   * batch: the executor starts nothing more where it still can, hands over what finishes (so that the
   * search can store it), then throws that exception. An interrupt of the calling thread likewise ends
   * the batch with an exception, the interrupt flag set.
   *
   * @param batch distinct fine-tunes of one task
   * @param runner the searching process's runner, for executors that run in this process
   * @param evaluator the searching process's evaluator, likewise
   */
  <M> void run(List<FineTune> batch, RecoveryRunner<M> runner, Evaluator<M> evaluator, Consumer<Observation> finished);

  /** How many fine-tunes it runs at once. */
  int parallelism();

  /** A short description for logs and provenance, such as {@code threads(2)}. */
  String describe();

  /** Releases threads or connections the executor holds; by default nothing. */
  @Override
  default void close() {}

  /** One fine-tune at a time on the calling thread: the default. */
  static EvaluationExecutor sequential() {
    return SequentialExecutor.INSTANCE;
  }

  /**
   * Up to {@code threads} fine-tunes at once on threads of its own, for a machine with several GPUs or
   * many cores. The runner and evaluator must then be safe to call from several threads (the library's
   * LoRA and AdaLoRA runners and its evaluators are). Close it to stop its threads; they are daemon
   * threads, so an executor left open does not keep the JVM alive.
   */
  static EvaluationExecutor threads(int threads) {
    return new ThreadPoolEvaluationExecutor(threads);
  }
}
