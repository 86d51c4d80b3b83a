package org.rankadaptor;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
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
    boolean interrupted = false;
    for (int remaining = futures.size(); remaining > 0; ) {
      Future<Observation> next;
      try {
        next = done.take();
      } catch (InterruptedException e) {
        // Fine-tunes do not stop when interrupted: start nothing more, and wait for the running ones so
        // that what they measure is handed over (and stored) before the caller hears of the interrupt.
        interrupted = true;
        stopping.set(true);
        continue;
      }
      remaining--;
      Observation observation;
      try {
        observation = next.get();
      } catch (ExecutionException e) {
        first = keepFirst(first, e.getCause());
        continue;
      } catch (CancellationException e) {
        first = keepFirst(first, new RankAdaptorException("the executor was closed while a batch ran", e));
        continue;
      } catch (InterruptedException e) {
        interrupted = true; // cannot happen on a finished future; kept for the caller
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
    if (interrupted) {
      Thread.currentThread().interrupt();
      first = keepFirst(new RankAdaptorException("interrupted; the fine-tunes that were running finished and were "
          + "handed over"), first);
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
    if (next != null && next != first) {
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

  /** Stops the threads; fine-tunes not yet started are cancelled, and a batch still running says so. */
  @Override
  public void close() {
    for (Runnable queued : pool.shutdownNow()) {
      if (queued instanceof Future<?> future) {
        future.cancel(false);
      }
    }
  }
}
