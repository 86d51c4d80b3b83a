package org.rankadaptor.benchmarks;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;
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
import org.rankadaptor.Evaluation;
import org.rankadaptor.Observation;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.dl4j.predictor.MlpConfig;
import org.rankadaptor.dl4j.predictor.MlpPerformanceModel;
import org.rankadaptor.dl4j.predictor.MlpScorer;
import org.rankadaptor.demo.DemoObjective;

/**
 * The performance model side by side: the fast scorer (plain-Java kernel without JVM flags, Vector API
 * kernel with {@code --add-modules jdk.incubator.vector}) against DL4J's
 * {@link MultiLayerNetwork#output}, for batches of 4,096 to 1,000,000 candidates with 26 and 32
 * inputs (time per batch; candidates per second = batch / time), one candidate (latency), and fitting
 * the default ensemble of 5 networks to 200 observations for 300 epochs, against the same number of
 * DL4J training steps.
 *
 * <pre>
 * benchmarks/jmh PredictorBenchmark -f 1 -wi 2 -i 5
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx8g"})
public class PredictorBenchmark {
  private static final String VECTOR = "--add-modules=jdk.incubator.vector";

  /** A trained-shape network (paper widths) and random normalised inputs. */
  static MultiLayerNetwork network(int inputs) {
    RankSpace space = RankSpace.builder(inputs).build();
    return new MlpPerformanceModel(space, MlpConfig.paper().withEnsembleSize(1)).network(0);
  }

  static float[] inputs(int count, int width) {
    SplittableRandom random = new SplittableRandom(count * 31L + width);
    float[] x = new float[count * width];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 3 - 1.5);
    }
    return x;
  }

  @State(Scope.Benchmark)
  public static class Batch {
    @Param({"26", "32"})
    int inputs;

    @Param({"4096", "65536", "1000000"})
    int batch;

    MultiLayerNetwork net;
    MlpScorer scorer;
    float[] x;
    INDArray features;
    float[][] out;

    @Setup(Level.Trial)
    public void setUp() {
      net = network(inputs);
      scorer = MlpScorer.of(List.of(net));
      x = inputs(batch, inputs);
      features = Nd4j.create(x, new long[] {batch, inputs}, DataType.FLOAT);
      out = new float[1][batch];
    }
  }

  @Benchmark
  public float[][] batchScorerPlainJava(Batch s) {
    requireKernel(s.scorer, "scalar");
    s.scorer.score(s.x, s.batch, s.out);
    return s.out;
  }

  @Benchmark
  @Fork(value = 1, jvmArgsAppend = {"-Xmx8g", VECTOR})
  public float[][] batchScorerVectorApi(Batch s) {
    requireKernel(s.scorer, "vector");
    s.scorer.score(s.x, s.batch, s.out);
    return s.out;
  }

  @Benchmark
  public INDArray batchDl4jOutput(Batch s) {
    return s.net.output(s.features);
  }

  @State(Scope.Benchmark)
  public static class Single {
    MultiLayerNetwork net;
    MlpScorer scorer;
    float[] x;
    INDArray features;
    float[][] out = new float[1][1];

    @Setup(Level.Trial)
    public void setUp() {
      net = network(26);
      scorer = MlpScorer.of(List.of(net));
      x = inputs(1, 26);
      features = Nd4j.create(x, new long[] {1, 26}, DataType.FLOAT);
    }
  }

  @Benchmark
  public float[][] latencyScorerPlainJava(Single s) {
    s.scorer.score(s.x, 1, s.out);
    return s.out;
  }

  @Benchmark
  @Fork(value = 1, jvmArgsAppend = {"-Xmx8g", VECTOR})
  public float[][] latencyScorerVectorApi(Single s) {
    s.scorer.score(s.x, 1, s.out);
    return s.out;
  }

  @Benchmark
  public INDArray latencyDl4jOutput(Single s) {
    return s.net.output(s.features);
  }

  @State(Scope.Benchmark)
  public static class Fitting {
    MlpPerformanceModel model;
    List<Observation> observations;

    @Setup(Level.Trial)
    public void setUp() {
      RankSpace space = RankSpace.paperSetting();
      DemoObjective objective = DemoObjective.create(space, 3);
      observations = space.sample(200, 4, true).stream()
          .map(c -> Observation.succeeded("bench", c, evaluate(objective, c), 0, Provenance.ofSeed(1)))
          .toList();
      // The default model: an ensemble of 5 networks, 300 epochs of batches of 32.
      model = new MlpPerformanceModel(space, MlpConfig.paper());
    }

    private static Evaluation evaluate(DemoObjective objective, RankConfig config) {
      return objective.evaluate(objective.recover(config, 1));
    }
  }

  /**
   * {@link MlpPerformanceModel#fit} of the default model: 5 networks, each 300 epochs of 7 batches of 32
   * (2,100 Adam steps).
   */
  @Benchmark
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Warmup(iterations = 2, batchSize = 1)
  @Measurement(iterations = 3, batchSize = 1)
  @BenchmarkMode(Mode.SingleShotTime)
  public MlpPerformanceModel fit200Observations300Epochs(Fitting s) {
    s.model.fit(s.observations);
    return s.model;
  }

  /**
   * The same work through DL4J's own training step, as the model trained before: for each of the 5
   * networks, 2,100 calls of {@link MultiLayerNetwork#fit(INDArray, INDArray)} on seeded mini-batches of 32
   * of 200 examples, with ND4J at one thread.
   */
  @Benchmark
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Warmup(iterations = 2, batchSize = 1)
  @Measurement(iterations = 3, batchSize = 1)
  @BenchmarkMode(Mode.SingleShotTime)
  public MultiLayerNetwork fit200Observations300EpochsDl4j(Fitting s) {
    float[] x = inputs(200, 26);
    float[] y = inputs(200, 1);
    int batch = 32;
    int steps = 300 * ((200 + batch - 1) / batch);
    Environment environment = Nd4j.getEnvironment();
    int threads = environment.maxThreads();
    int masterThreads = environment.maxMasterThreads();
    environment.setMaxThreads(1);
    environment.setMaxMasterThreads(1);
    MultiLayerNetwork net = null;
    try {
      for (int member = 0; member < s.model.config().ensembleSize(); member++) {
        net = s.model.network(member);
        SplittableRandom random = new SplittableRandom(member);
        int[] order = IntStream.range(0, 200).toArray();
        int position = order.length;
        for (int step = 0; step < steps; step++) {
          if (position + batch > order.length) {
            for (int i = order.length - 1; i > 0; i--) {
              int j = random.nextInt(i + 1);
              int t = order[i];
              order[i] = order[j];
              order[j] = t;
            }
            position = 0;
          }
          float[] f = new float[batch * 26];
          float[] l = new float[batch];
          for (int b = 0; b < batch; b++) {
            System.arraycopy(x, order[position + b] * 26, f, b * 26, 26);
            l[b] = y[order[position + b]];
          }
          position += batch;
          net.fit(Nd4j.create(f, new long[] {batch, 26}, DataType.FLOAT),
              Nd4j.create(l, new long[] {batch, 1}, DataType.FLOAT));
        }
      }
    } finally {
      environment.setMaxThreads(threads);
      environment.setMaxMasterThreads(masterThreads);
    }
    return net;
  }

  private static void requireKernel(MlpScorer scorer, String prefix) {
    if (!scorer.kernelName().startsWith(prefix)) {
      throw new IllegalStateException("expected the " + prefix + " kernel, the JVM gave " + scorer.kernelName());
    }
  }
}
