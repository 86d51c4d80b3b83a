/**
 * Runs a search's fine-tunes on a Spark cluster: {@link org.rankadaptor.spark.SparkEvaluationExecutor}
 * submits each (configuration, recovery seed) as a Spark task, built on the executor from a serialisable
 * {@link org.rankadaptor.spark.FineTuneSetup}; the driver runs the search and owns the store. Spark is a
 * provided dependency.
 */
package org.rankadaptor.spark;
