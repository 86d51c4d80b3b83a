package org.rankadaptor.examples;

import org.rankadaptor.EvaluationExecutor;
import org.rankadaptor.spark.FineTuneSetup;
import org.rankadaptor.spark.SparkEvaluationExecutor;

/**
 * The command line's way onto Spark. The examples do not depend on Spark: {@code spark-submit} puts it on
 * the classpath, or the module's {@code spark} profile does for {@code exec:java}; without it the user
 * is told so.
 */
final class SparkRun {
  private SparkRun() {}

  /**
   * A Spark executor with a context of its own on {@code master}; closing it stops the context.
   *
   * @throws IllegalStateException naming what to add when Spark is not on the classpath
   */
  static EvaluationExecutor executor(String master, FineTuneSetup<?> setup, int parallelism) {
    try {
      return SparkEvaluationExecutor.start(master, "rankadaptor", setup, parallelism);
    } catch (NoClassDefFoundError e) {
      throw new IllegalStateException("Spark is not on the classpath: submit with spark-submit, or run through "
          + "Maven with -Pspark (" + e.getMessage() + " is missing)", e);
    }
  }
}
