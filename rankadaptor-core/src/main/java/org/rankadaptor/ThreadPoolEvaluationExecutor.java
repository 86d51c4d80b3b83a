package org.rankadaptor;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** {@link EvaluationExecutor#threads(int)}: a fixed pool of daemon threads. */
final class ThreadPoolEvaluationExecutor implements EvaluationExecutor {
  private static final AtomicInteger POOLS = new AtomicInteger();

  private final int threads;
  private final ExecutorService pool;

  ThreadPoolEvaluationExecutor(int threads) {
    checkArgument(threads >= 1, "an executor needs at least one thread, got %s", threads);
    this.threads = threads;
    int id = POOLS.incrementAndGet();
    AtomicInteger count = new AtomicInteger();
    ThreadFactory factory = runnable -> {
      Thread t = new Thread(runnable, "rankadaptor-fine-tune-" + id + "-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    // A fixed pool keeps each worker on one thread for its life: a CUDA backend binds a thread to a device.
    this.pool = Executors.newFixedThreadPool(threads, factory);
  }

  @Override
  public <M> void run(List<FineTune> batch, RecoveryRunner<M> runner, Evaluator<M> evaluator,
      Consumer<Observation> finished) {
    CompletionService<Observation> done = new ExecutorCompletionService<>(pool);
    AtomicBoolean stopping = new AtomicBoolean();
    List<Future<Observation>> futures = new ArrayList<>();
    for (FineTune fineTune : batch) {
      futures.add(done.submit(() -> {
        if (stopping.get()) {
          return null; // not started: a sibling failed
        }
        try {
          return fineTune.run(runner, evaluator);
        } catch (RuntimeException | Error e) {
          stopping.set(true);
          throw e;
        }
      }));
    }
    Throwable first = null;
    for (int i = 0; i < futures.size(); i++) {
      Observation observation;
      try {
        observation = done.take().get();
      } catch (InterruptedException e) {
        futures.forEach(f -> f.cancel(true));
        Thread.currentThread().interrupt();
        throw new RankAdaptorException("interrupted while " + (futures.size() - i) + " fine-tune(s) ran", e);
      } catch (ExecutionException e) {
        first = keepFirst(first, e.getCause());
        continue;
      }
      if (observation == null) {
        continue;
      }
      try {
        finished.accept(observation);
      } catch (RuntimeException e) {
        stopping.set(true);
        first = keepFirst(first, e);
      }
    }
    if (first instanceof RuntimeException r) {
      throw r;
    }
    if (first instanceof Error err) {
      throw err;
    }
    if (first != null) {
      throw new RankAdaptorException("a fine-tune failed: " + first, first);
    }
  }

  private static Throwable keepFirst(Throwable first, Throwable next) {
    if (first == null) {
      return next;
    }
    if (next != first) {
      first.addSuppressed(next);
    }
    return first;
  }

  @Override
  public int parallelism() {
    return threads;
  }

  @Override
  public String describe() {
    return "threads(" + threads + ")";
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
