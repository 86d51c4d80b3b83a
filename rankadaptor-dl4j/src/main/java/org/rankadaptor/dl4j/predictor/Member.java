package org.rankadaptor.dl4j.predictor;

import java.util.List;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * One network of the ensemble: a DL4J {@link MultiLayerNetwork} (ReLU hidden layers, linear output,
 * MSE, Adam) together with the parameters it starts online learning from (the random initialisation,
 * or the Reptile meta-initialisation once meta-learned). The network is the model of record (its
 * parameters, Adam state and iteration count are what is scored, saved and loaded); training runs in an
 * {@link MlpTrainer} that takes the same steps as DL4J's {@code fit} far faster. Mutable; the model trains
 * copies and swaps them in only when training succeeded.
 */
final class Member {
  /** DL4J's default Adam moments and epsilon; the learning rate comes from the configuration. */
  private static final Adam ADAM = new Adam();

  private final int[] widths; // input, hidden..., 1
  private final double learningRate;
  private final double l2;
  private final long seed;
  private final MultiLayerNetwork net;
  private INDArray start; // (parameters) where fit() restarts from

  private Member(int[] widths, double learningRate, double l2, long seed, MultiLayerNetwork net, INDArray start) {
    this.widths = widths;
    this.learningRate = learningRate;
    this.l2 = l2;
    this.seed = seed;
    this.net = net;
    this.start = start;
  }

  /** A freshly initialised network; its weights depend only on {@code seed} and the widths. */
  static Member create(int[] widths, double learningRate, double l2, long seed) {
    MultiLayerNetwork net = new MultiLayerNetwork(configuration(widths, learningRate, l2, seed));
    net.init();
    return new Member(widths.clone(), learningRate, l2, seed, net, net.params().dup());
  }

  private static MultiLayerConfiguration configuration(int[] widths, double learningRate, double l2, long seed) {
    NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
        .seed(seed)
        .dataType(DataType.FLOAT)
        .updater(new Adam(learningRate, ADAM.getBeta1(), ADAM.getBeta2(), ADAM.getEpsilon()))
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
    return new Member(widths, learningRate, l2, seed, twin, start.dup());
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
    for (float p : parameters()) {
      if (!Float.isFinite(p)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Takes {@code steps} Adam steps on mini-batches of the data from the current state (see
   * {@link MlpTrainer#train}).
   *
   * @param x inputs, one row per example, already normalised
   * @param y targets, already normalised
   */
  void train(float[][] x, float[] y, int steps, int batchSize, SplittableRandom random) {
    MlpTrainer trainer = trainer();
    trainer.train(x, y, steps, batchSize, random);
    store(trainer);
  }

  /**
   * Reptile (Nichol, Achiam and Schulman, 2018), a first-order meta-learning method: from the current
   * meta-parameters, adapt to one randomly chosen source task with a few Adam steps, then move the
   * meta-parameters a fraction of the way toward the adapted ones, the fraction annealed linearly to 0.
   * Chosen over MAML because it needs no second derivatives and uses only the ordinary training step.
   * The result becomes the starting point of online learning and of {@link #restart}.
   */
  void reptile(List<float[][]> taskInputs, List<float[]> taskTargets, int iterations, int innerSteps,
      double stepSize, int batchSize, SplittableRandom random) {
    MlpTrainer trainer = trainer();
    float[] meta = trainer.params.clone();
    float[] adapted = trainer.params;
    for (int iteration = 0; iteration < iterations; iteration++) {
      int task = random.nextInt(taskInputs.size());
      trainer.reset(meta);
      trainer.train(taskInputs.get(task), taskTargets.get(task), innerSteps, batchSize, random);
      float fraction = (float) (stepSize * (1.0 - (double) iteration / iterations));
      for (int k = 0; k < meta.length; k++) {
        meta[k] += fraction * (adapted[k] - meta[k]);
      }
    }
    net.setParams(row(meta));
    resetOptimiser();
    start = row(meta);
  }

  /** A trainer holding this network's parameters, Adam moments and iteration count. */
  MlpTrainer trainer() {
    MlpTrainer trainer = new MlpTrainer(widths, parameters(), learningRate, l2, ADAM.getBeta1(), ADAM.getBeta2(),
        ADAM.getEpsilon());
    float[] state = optimiserStateVector();
    if (state.length > 0) {
      for (UpdaterBlock block : updaterBlocks()) {
        int from = block.getParamOffsetStart();
        int count = block.getParamOffsetEnd() - from;
        int at = block.getUpdaterViewOffsetStart();
        System.arraycopy(state, at, trainer.m, from, count);
        System.arraycopy(state, at + count, trainer.v, from, count);
      }
    }
    trainer.iteration = net.getIterationCount();
    return trainer;
  }

  /** Makes the trainer's parameters, moments and iteration count this network's. */
  void store(MlpTrainer trainer) {
    net.setParams(row(trainer.params));
    INDArray state = optimiserState(net);
    if (state != null) {
      float[] moments = new float[(int) state.length()];
      for (UpdaterBlock block : updaterBlocks()) {
        int from = block.getParamOffsetStart();
        int count = block.getParamOffsetEnd() - from;
        int at = block.getUpdaterViewOffsetStart();
        System.arraycopy(trainer.m, from, moments, at, count);
        System.arraycopy(trainer.v, from, moments, at + count, count);
      }
      state.assign(row(moments));
    }
    net.setIterationCount(trainer.iteration);
  }

  /**
   * DL4J keeps Adam's moments in one flat view, block by block of parameters sharing an updater
   * configuration: a block's first moments, then its second moments.
   */
  private List<UpdaterBlock> updaterBlocks() {
    return ((MultiLayerUpdater) net.getUpdater(true)).getUpdaterBlocks();
  }

  private static INDArray row(float[] values) {
    return Nd4j.createFromArray(values.clone()).reshape(1, values.length);
  }
}
