package org.rankadaptor.benchmarks;

import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;

/**
 * ND4J float32 gemm with the OpenBLAS kernel {@link Nd4jRuntime} picks against the alternatives, side
 * by side. The shapes are the 24M-parameter model's projections for a batch of 2048 tokens (dim 288,
 * MLP 768). The {@code gflop} secondary result is GFLOP/s.
 *
 * <p>{@code coreType} is the value of {@link Nd4jRuntime#CORE_TYPE_PROPERTY}: {@code auto} (the
 * module's choice), {@code off} (OpenBLAS's own detection on this CPU) and {@code Prescott} (what
 * OpenBLAS 0.3.19 falls back to on CPUs it does not recognise, such as Sapphire Rapids). OpenBLAS
 * fixes its kernel when it loads, so every parameter combination needs its own JVM: run with
 * {@code -f 1} or more, never {@code -f 0}.
 *
 * <p>Run: {@code java -cp <benchmarks classpath> org.openjdk.jmh.Main Blas -f 1 -wi 2 -i 5}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class BlasBenchmark {

  private static final long SEED = 20_261_130L;

  @Param({"auto", "off", "Prescott"})
  public String coreType;

  /**
   * {@link Nd4jRuntime#THREADS_PROPERTY}, or {@code default} for ND4J's own choice; compare with
   * {@code -p threads=default,1}.
   */
  @Param({"default"})
  public String threads;

  /** {@code M x K x N}: an [M, K] matrix times a [K, N] matrix. */
  @Param({"2048x288x768", "2048x768x288"})
  public String shape;

  private INDArray left;
  private INDArray right;
  private INDArray product;
  private double gflopPerProduct;

  /** Counts floating-point work, so that JMH reports it per second. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Work {
    /** Billions of floating-point operations done; per second, GFLOP/s. */
    public double gflop;
  }

  @Setup(Level.Trial)
  public void setUp() {
    if (Nd4jRuntime.report() != null) {
      throw new IllegalStateException(
          "ND4J was initialised before this trial; BlasBenchmark needs a fresh JVM (-f 1 or more)");
    }
    System.setProperty(Nd4jRuntime.CORE_TYPE_PROPERTY, coreType);
    if (!threads.equals("default")) {
      System.setProperty(Nd4jRuntime.THREADS_PROPERTY, threads);
    }
    Nd4jRuntime.Report report = Nd4jRuntime.ensureInitialized();
    // A comparison is only honest when OpenBLAS really runs the kernel the parameter names.
    String expectedCore = report.action() == Nd4jRuntime.CoreTypeAction.SET ? report.coreType() : null;
    boolean explicit = !coreType.equals("auto") && !coreType.equals("off");
    if ((explicit && expectedCore == null)
        || (expectedCore != null && !expectedCore.equalsIgnoreCase(report.blasCoreName()))) {
      throw new IllegalStateException("coreType=" + coreType + " but the runtime is " + report);
    }
    String[] dims = shape.split("x");
    long m = Long.parseLong(dims[0]);
    long k = Long.parseLong(dims[1]);
    long n = Long.parseLong(dims[2]);
    Nd4j.getRandom().setSeed(SEED);
    left = Nd4j.rand(DataType.FLOAT, m, k);
    right = Nd4j.rand(DataType.FLOAT, k, n);
    product = Nd4j.createUninitialized(DataType.FLOAT, new long[] {m, n}, 'f');
    gflopPerProduct = 2.0 * m * k * n / 1e9;
  }

  @Benchmark
  public INDArray gemm(Work work) {
    INDArray result = left.mmuli(right, product);
    work.gflop += gflopPerProduct;
    return result;
  }
}
