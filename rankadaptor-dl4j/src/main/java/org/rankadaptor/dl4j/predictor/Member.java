package org.rankadaptor.dl4j.predictor;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * One network of the ensemble: a DL4J {@link MultiLayerNetwork} (ReLU hidden layers, linear output,
 * MSE, Adam) together with the parameters it starts online learning from (the random initialisation,
 * or the Reptile meta-initialisation once meta-learned). Mutable; the model trains copies and swaps
 * them in only when training succeeded.
 */
final class Member {
  private final int[] widths; // input, hidden..., 1
  private final long seed;
  private final MultiLayerNetwork net;
  private INDArray start; // (parameters) where fit() restarts from

  private Member(int[] widths, long seed, MultiLayerNetwork net, INDArray start) {
    this.widths = widths;
    this.seed = seed;
    this.net = net;
    this.start = start;
  }

  /** A freshly initialised network; its weights depend only on {@code seed} and the widths. */
  static Member create(int[] widths, double learningRate, double l2, long seed) {
    MultiLayerNetwork net = new MultiLayerNetwork(configuration(widths, learningRate, l2, seed));
    net.init();
    return new Member(widths.clone(), seed, net, net.params().dup());
  }

  private static MultiLayerConfiguration configuration(int[] widths, double learningRate, double l2, long seed) {
    NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
        .seed(seed)
        .dataType(DataType.FLOAT)
        .updater(new Adam(learningRate))
        .weightInit(WeightInit.RELU)
        .l2(l2)
        .list();
    int last = widths.length - 2;
    for (int layer = 0; layer < last; layer++) {
      list.layer(new DenseLayer.Builder().nIn(widths[layer]).nOut(widths[layer + 1])
          .activation(Activation.RELU).build());
    }
    list.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(widths[last]).nOut(1)
        .activation(Activation.IDENTITY).weightInit(WeightInit.XAVIER).build());
    return list.build();
  }

  /** A deep copy: parameters, optimiser state and starting point. */
  Member copy() {
    MultiLayerNetwork twin = new MultiLayerNetwork(net.getLayerWiseConfigurations().clone());
    twin.init(net.params().dup(), false);
    INDArray state = optimiserState(net);
    if (state != null) {
      optimiserState(twin).assign(state);
    }
    twin.setIterationCount(net.getIterationCount());
    return new Member(widths, seed, twin, start.dup());
  }

  MultiLayerNetwork network() {
    return net;
  }

  long seed() {
    return seed;
  }

  int parameterCount() {
    return (int) net.numParams();
  }

  /** The parameters, flattened in DL4J's order. */
  float[] parameters() {
    return net.params().toFloatVector();
  }

  float[] startParameters() {
    return start.toFloatVector();
  }

  float[] optimiserStateVector() {
    INDArray state = optimiserState(net);
    return state == null ? new float[0] : state.toFloatVector();
  }

  int iterationCount() {
    return net.getIterationCount();
  }

  /** Restores a saved state; lengths were validated by the caller. */
  void restore(float[] parameters, float[] startParameters, float[] optimiser, int iterations) {
    net.setParams(Nd4j.createFromArray(parameters).reshape(1, parameters.length));
    start = Nd4j.createFromArray(startParameters).reshape(1, startParameters.length);
    if (optimiser.length > 0) {
      optimiserState(net).assign(Nd4j.createFromArray(optimiser).reshape(1, optimiser.length));
    }
    net.setIterationCount(iterations);
  }

  /** Length of the optimiser state vector (Adam's two moments per parameter). */
  int optimiserStateLength() {
    INDArray state = optimiserState(net);
    return state == null ? 0 : (int) state.length();
  }

  /** Goes back to the starting point with a fresh optimiser. */
  void restart() {
    net.setParams(start.dup());
    resetOptimiser();
  }

  private void resetOptimiser() {
    INDArray state = optimiserState(net);
    if (state != null) {
      state.assign(0);
    }
    net.setIterationCount(0);
  }

  private static INDArray optimiserState(MultiLayerNetwork network) {
    return network.getUpdater(true).getStateViewArray();
  }

  /** Whether every parameter is finite (training did not diverge). */
  boolean isFinite() {
    INDArray params = net.params();
    return !(params.isNaN().any() || params.isInfinite().any());
  }

  /**
   * Takes {@code steps} Adam steps on mini-batches of the data from the current state. Mini-batches
   * are consecutive slices of seeded shuffles, so each epoch sees every example once.
   *
   * @param x inputs, one row per example, already normalised
   * @param y targets, already normalised
   */
  void train(float[][] x, float[] y, int steps, int batchSize, SplittableRandom random) {
    Batches batches = new Batches(x, y, batchSize, random);
    for (int step = 0; step < steps; step++) {
      batches.next();
      net.fit(batches.features, batches.labels);
    }
  }

  /**
   * Reptile (Nichol, Achiam and Schulman, 2018), a first-order meta-learning method: from the current
   * meta-parameters, adapt to one randomly chosen source task with a few Adam steps, then move the
   * meta-parameters a fraction of the way toward the adapted ones, the fraction annealed linearly to 0.
   * Chosen over MAML because it needs no second derivatives (DL4J does not give gradients of
   * gradients) and uses only the ordinary training step. The result becomes the starting point of
   * online learning and of {@link #restart}.
   */
  void reptile(List<float[][]> taskInputs, List<float[]> taskTargets, int iterations, int innerSteps,
      double stepSize, int batchSize, SplittableRandom random) {
    INDArray meta = net.params().dup();
    for (int iteration = 0; iteration < iterations; iteration++) {
      int task = random.nextInt(taskInputs.size());
      net.setParams(meta);
      resetOptimiser();
      train(taskInputs.get(task), taskTargets.get(task), innerSteps, batchSize, random);
      double fraction = stepSize * (1.0 - (double) iteration / iterations);
      // meta += fraction * (adapted - meta)
      meta.addi(net.params().sub(meta).muli(fraction));
    }
    net.setParams(meta);
    resetOptimiser();
    start = meta.dup();
  }

  /**
   * Runs training with ND4J's native thread pools at one thread, restoring the previous setting after.
   * The predictor's matrices are tiny (batches of 32 by 32), so a second thread has nothing to win, and
   * on a busy machine OpenMP's spin-waiting made each step about 8 times slower (measured: 3 ms of CPU
   * per step with one thread against 25 ms with two). The setting is process-wide: other ND4J work
   * running at the same moment also runs single-threaded until training ends.
   */
  static <T> T singleThreaded(Supplier<T> training) {
    Environment environment = Nd4j.getEnvironment();
    synchronized (Member.class) {
      int threads = environment.maxThreads();
      int masterThreads = environment.maxMasterThreads();
      environment.setMaxThreads(1);
      environment.setMaxMasterThreads(1);
      try {
        return training.get();
      } finally {
        environment.setMaxThreads(threads);
        environment.setMaxMasterThreads(masterThreads);
      }
    }
  }

  /** Seeded mini-batches of a data set, as ND4J arrays. */
  private static final class Batches {
    private final float[][] x;
    private final float[] y;
    private final int size;
    private final SplittableRandom random;
    private final int[] order;
    private int position;
    INDArray features;
    INDArray labels;

    Batches(float[][] x, float[] y, int batchSize, SplittableRandom random) {
      this.x = x;
      this.y = y;
      this.size = Math.min(batchSize, x.length);
      this.random = random;
      this.order = new int[x.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      this.position = order.length; // shuffle before the first batch
    }

    void next() {
      if (position + size > order.length) {
        for (int i = order.length - 1; i > 0; i--) {
          int j = random.nextInt(i + 1);
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
        position = 0;
      }
      int inputs = x[0].length;
      float[] f = new float[size * inputs];
      float[] l = new float[size];
      for (int b = 0; b < size; b++) {
        int row = order[position + b];
        System.arraycopy(x[row], 0, f, b * inputs, inputs);
        l[b] = y[row];
      }
      position += size;
      features = Nd4j.create(f, new long[] {size, inputs}, DataType.FLOAT);
      labels = Nd4j.create(l, new long[] {size, 1}, DataType.FLOAT);
    }
  }
}
