package org.rankadaptor.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.rankadaptor.EvaluationExecutor;
import org.rankadaptor.Evaluator;
import org.rankadaptor.FineTune;
import org.rankadaptor.Observation;
import org.rankadaptor.RankAdaptorException;
import org.rankadaptor.RecoveryRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each fine-tune of a batch as a Spark task: one job of one task per (configuration, recovery seed),
 * all of a batch submitted at once, so that they run on as many executors (or GPUs) as the cluster
 * gives. The runner and evaluator are built on the executors from a {@link FineTuneSetup}; observations
 * return to the driver, which owns the store and appends each as soon as its job finishes.
 *
 * <p>Failures: a task that throws is retried by Spark ({@code spark.task.maxFailures}); a recovery that
 * diverges ({@code RecoveryFailedException}) is not an error but a failed observation, recorded as it is
 * locally. A task that still fails after its retries stops the batch once the others have finished and
 * been handed over (Spark runs every job of a batch it was given); the search stops, and run again over
 * the same store it resumes. An interrupt cancels the batch's jobs: what they were computing is lost,
 * what finished before is stored.
 *
 * <pre>{@code
 * JavaSparkContext spark = new JavaSparkContext(new SparkConf().setAppName("rankadaptor"));
 * MySetup setup = new MySetup(modelPath, dataPath, settings);     // a record implementing FineTuneSetup
 * FineTuneSetup.Built<MyModel> here = setup.build();               // the driver's, for the fingerprints
 * try (EvaluationExecutor executor = SparkEvaluationExecutor.create(spark, setup, 4)) {
 *   SearchResult result = RankAdaptor.search(SearchSpec.builder(model, here.runner(), here.evaluator())
 *       .store(ObservationStore.open(Path.of("runs/search.jsonl"))).seed(42)
 *       .batchSize(4).executor(executor).build());
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class SparkEvaluationExecutor implements EvaluationExecutor {
  private static final Logger log = LoggerFactory.getLogger(SparkEvaluationExecutor.class);

  /** How often the driver looks for finished jobs. */
  private static final long POLL_MILLIS = 50;

  private static final AtomicLong BATCHES = new AtomicLong();

  private final JavaSparkContext context;
  private final boolean ownsContext;
  private final FineTuneSetup<?> setup;
  private final int parallelism;

  private SparkEvaluationExecutor(JavaSparkContext context, boolean ownsContext, FineTuneSetup<?> setup,
      int parallelism) {
    this.context = Objects.requireNonNull(context, "context");
    this.ownsContext = ownsContext;
    this.setup = Objects.requireNonNull(setup, "setup");
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, got " + parallelism);
    }
    this.parallelism = parallelism;
  }

  /**
   * An executor over a running Spark context. The context stays the caller's: closing the executor does
   * not stop it.
   *
   * @param context the running Spark context
   * @param setup what the executors build the runner and evaluator from
   * @param parallelism fine-tunes the cluster can run at once (the executors' task slots, or GPUs);
   *     informs logs and provenance, the batch size itself is the search's
   * @return the executor
   */
  public static SparkEvaluationExecutor create(JavaSparkContext context, FineTuneSetup<?> setup, int parallelism) {
    return new SparkEvaluationExecutor(context, false, setup, parallelism);
  }

  /**
   * An executor over a Spark context of its own on {@code master} ({@code local[2]},
   * {@code spark://host:7077}, {@code yarn}, or whatever {@code spark-submit} set when {@code master} is
   * null), stopped when the executor is closed. Callers need no Spark type: a command line can offer
   * Spark without compiling against it.
   *
   * @param master the Spark master URL, or null for the one {@code spark-submit} set
   * @param appName the application's name in Spark's UI and logs
   * @param setup what the executors build the runner and evaluator from
   * @param parallelism fine-tunes the cluster can run at once; informs logs and provenance
   * @return the executor, owning its context
   * @throws NoClassDefFoundError when Spark is not on the classpath
   */
  public static SparkEvaluationExecutor start(String master, String appName, FineTuneSetup<?> setup,
      int parallelism) {
    SparkConf conf = new SparkConf().setAppName(appName).setIfMissing("spark.ui.showConsoleProgress", "false");
    if (master != null) {
      conf.setMaster(master);
    }
    return new SparkEvaluationExecutor(new JavaSparkContext(conf), true, setup, parallelism);
  }

  @Override
  public <M> void run(List<FineTune> batch, RecoveryRunner<M> runner, Evaluator<M> evaluator,
      Consumer<Observation> finished) {
    // One job group per batch, so that an interrupt or a failure to submit cancels exactly its jobs.
    String group = "rankadaptor-batch-" + BATCHES.incrementAndGet();
    context.setJobGroup(group, "rankadaptor: a batch of " + batch.size() + " fine-tune(s)", true);
    try {
      collect(submit(batch), finished);
    } catch (RuntimeException | Error e) {
      context.cancelJobGroup(group);
      throw e;
    } finally {
      context.clearJobGroup();
    }
  }

  private Map<FineTune, JavaFutureAction<List<Observation>>> submit(List<FineTune> batch) {
    Map<FineTune, JavaFutureAction<List<Observation>>> running = new LinkedHashMap<>();
    for (FineTune fineTune : batch) {
      context.setJobDescription("rankadaptor " + fineTune.taskId() + ": " + fineTune.config().format()
          + " with recovery seed " + fineTune.seed());
      running.put(fineTune, context.parallelize(List.of(fineTune), 1).map(new RunFineTune(setup)).collectAsync());
    }
    return running;
  }

  /** Hands each observation over as its job finishes; a failed job stops the batch once the others are in. */
  private static void collect(Map<FineTune, JavaFutureAction<List<Observation>>> running,
      Consumer<Observation> finished) {
    RuntimeException first = null;
    while (!running.isEmpty()) {
      List<FineTune> done = new ArrayList<>();
      for (Map.Entry<FineTune, JavaFutureAction<List<Observation>>> e : running.entrySet()) {
        if (!e.getValue().isDone()) {
          continue;
        }
        done.add(e.getKey());
        try {
          finished.accept(e.getValue().get().get(0));
        } catch (ExecutionException ex) {
          RankAdaptorException failure = new RankAdaptorException("the fine-tune of " + e.getKey().config().format()
              + " with recovery seed " + e.getKey().seed() + " failed on Spark after its retries: "
              + ex.getCause().getMessage(), ex.getCause());
          log.warn("{}", failure.getMessage());
          first = keepFirst(first, failure);
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
          throw new RankAdaptorException("interrupted while " + running.size() + " fine-tune(s) ran on Spark", ex);
        } catch (RuntimeException ex) {
          first = keepFirst(first, ex); // the store could not take it: stop once the others are in
        }
      }
      done.forEach(running::remove);
      if (!running.isEmpty() && done.isEmpty()) {
        waitForAny(running.values());
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static void waitForAny(Iterable<JavaFutureAction<List<Observation>>> futures) {
    // Spark's futures offer no completion callback in Java: wait briefly on the first, then look again.
    try {
      futures.iterator().next().get(POLL_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // looked at again by the caller
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RankAdaptorException("interrupted while fine-tunes ran on Spark", e);
    }
  }

  private static RuntimeException keepFirst(RuntimeException first, RuntimeException next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  @Override
  public int parallelism() {
    return parallelism;
  }

  @Override
  public String describe() {
    return "spark(" + context.master() + ", " + parallelism + ")";
  }

  /** Stops the Spark context if the executor started it; a context given to {@link #create} stays open. */
  @Override
  public void close() {
    if (ownsContext) {
      context.stop();
    }
  }
}
