/**
 * JMH benchmarks: each measures a library path side by side with its baseline in the same run, so that
 * ratios hold on a shared, noisy machine where absolute times do not.
 *
 * <ul>
 *   <li>{@link org.rankadaptor.benchmarks.PredictorBenchmark}: the performance model's fast scorer (plain
 *       Java and Vector API kernels) against DL4J's own forward pass.
 *   <li>{@link org.rankadaptor.benchmarks.LlamaLoraBenchmark}: a LoRA training step and continuation
 *       scoring for three model shapes.
 *   <li>{@link org.rankadaptor.benchmarks.RecoveryBenchmark}: recovery and evaluation throughput.
 *   <li>{@link org.rankadaptor.benchmarks.PruningBenchmark}: one whole pruning run.
 *   <li>{@link org.rankadaptor.benchmarks.SafetensorsReadBenchmark}: reading a tensor per stored dtype
 *       against copying the file's bytes.
 *   <li>{@link org.rankadaptor.benchmarks.BlasBenchmark}: ND4J gemm with the OpenBLAS kernel the runtime
 *       picks against the alternatives.
 * </ul>
 *
 * <p>Nothing here is a test: correctness is checked in the modules' test suites, speed only here.
 */
package org.rankadaptor.benchmarks;
