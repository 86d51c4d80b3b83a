package org.rankadaptor.examples;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.rankadaptor.EvaluationExecutor;
import org.rankadaptor.spark.FineTuneSetup;
import org.rankadaptor.spark.SparkEvaluationExecutor;

/**
 * {@code rankadaptor run --spark-master}: the only class of the command line that touches Spark, so that
 * the others load where Spark (a provided dependency) is absent.
 */
final class SparkRun {
  private SparkRun() {}

  /**
   * A Spark executor over a new context on {@code master}; closing it stops the context.
   *
   * @throws IllegalStateException naming what to add when Spark is not on the classpath
   */
  static EvaluationExecutor executor(String master, FineTuneSetup<?> setup, int parallelism) {
    JavaSparkContext context;
    try {
      context = new JavaSparkContext(new SparkConf().setMaster(master).setAppName("rankadaptor run")
          .setIfMissing("spark.ui.showConsoleProgress", "false"));
    } catch (NoClassDefFoundError e) {
      throw new IllegalStateException("--spark-master needs Spark on the classpath: submit with spark-submit, or run "
          + "through Maven with -Dexec.classpathScope=compile (" + e.getMessage() + " is missing)", e);
    }
    SparkEvaluationExecutor spark = SparkEvaluationExecutor.create(context, setup, parallelism);
    return new EvaluationExecutor() {
      @Override
      public <M> void run(java.util.List<org.rankadaptor.FineTune> batch, org.rankadaptor.RecoveryRunner<M> runner,
          org.rankadaptor.Evaluator<M> evaluator, java.util.function.Consumer<org.rankadaptor.Observation> finished) {
        spark.run(batch, runner, evaluator, finished);
      }

      @Override
      public int parallelism() {
        return spark.parallelism();
      }

      @Override
      public String describe() {
        return spark.describe();
      }

      @Override
      public void close() {
        context.stop();
      }
    };
  }
}
