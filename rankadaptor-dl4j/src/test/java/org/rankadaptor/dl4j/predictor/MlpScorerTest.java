package org.rankadaptor.dl4j.predictor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class MlpScorerTest {

  private static float[] gaussianInputs(int count, int inputs, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] x = new float[count * inputs];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 4 - 2);
    }
    return x;
  }

  /** A network with small random biases too, so that every parameter takes part in the check. */
  private static MultiLayerNetwork network(int[] widths, long seed) {
    MultiLayerNetwork net = Member.create(widths, 1e-3, 0, seed).network();
    SplittableRandom random = new SplittableRandom(seed);
    for (int layer = 0; layer < widths.length - 1; layer++) {
      INDArray b = net.getLayer(layer).getParam("b");
      for (int o = 0; o < b.length(); o++) {
        b.putScalar(o, (float) (random.nextDouble() - 0.5) * 0.2f);
      }
    }
    return net;
  }

  private static void assertMatchesDl4j(MultiLayerNetwork net, Kernel kernel, int count) {
    int inputs = (int) net.getLayer(0).getParam("W").size(0);
    float[] x = gaussianInputs(count, inputs, count);
    float[] fast = MlpScorer.of(List.of(net), kernel).score(x, count);
    INDArray reference = net.output(Nd4j.create(x, new long[] {count, inputs}, DataType.FLOAT));
    for (int c = 0; c < count; c++) {
      assertThat((double) fast[c]).as("%s kernel, candidate %s of %s", kernel.name(), c, count)
          .isCloseTo(reference.getDouble(c, 0), org.assertj.core.data.Offset.offset(1e-5));
    }
  }

  private static List<Kernel> kernels() {
    List<Kernel> kernels = new ArrayList<>();
    kernels.add(MlpScorer.scalarKernel());
    Kernel vector = MlpScorer.vectorKernel();
    // The build runs tests with the incubator module, so the Vector API path is checked as well.
    assertThat(vector).as("Vector API kernel (tests run with --add-modules jdk.incubator.vector)").isNotNull();
    kernels.add(vector);
    return kernels;
  }

  @Test
  void bothKernelsEqualDl4jOutputWithin1e5() {
    // The paper's shape, a two-tile layer, widths that are no multiple of a SIMD tile, no hidden layer.
    for (int[] widths : new int[][] {{26, 32, 32, 32, 1}, {32, 32, 64, 32, 1}, {5, 7, 1}, {9, 40, 3, 1}, {4, 1}}) {
      MultiLayerNetwork net = network(widths, widths.length * 31L + widths[0]);
      for (Kernel kernel : kernels()) {
        // One candidate, a few (scored one at a time), a partial block, and a batch large enough to be
        // split over threads.
        for (int count : new int[] {1, 5, 77, 5_003}) {
          assertMatchesDl4j(net, kernel, count);
        }
      }
    }
  }

  @Test
  void scoresEveryMemberOfAnEnsemble() {
    int[] widths = {6, 32, 32, 32, 1};
    List<MultiLayerNetwork> nets = List.of(network(widths, 1), network(widths, 2), network(widths, 3));
    MlpScorer scorer = MlpScorer.of(nets);
    int count = 3000;
    float[] x = gaussianInputs(count, 6, 4);
    float[][] out = new float[3][count];
    scorer.score(x, count, out);
    for (int m = 0; m < 3; m++) {
      float[] alone = MlpScorer.of(List.of(nets.get(m))).score(x, count);
      assertThat(out[m]).containsExactly(alone);
    }
    assertThat(out[0]).isNotEqualTo(out[1]);
  }

  @Test
  void rejectsOtherShapesAndShortArrays() {
    MultiLayerNetwork tanh = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).list()
        .layer(new DenseLayer.Builder().nIn(3).nOut(4).activation(Activation.TANH).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(1)
            .activation(Activation.IDENTITY).build())
        .build());
    tanh.init();
    assertThatThrownBy(() -> MlpScorer.of(List.of(tanh))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("activation");
    MlpScorer scorer = MlpScorer.of(List.of(network(new int[] {4, 8, 1}, 5)));
    assertThatThrownBy(() -> scorer.score(new float[7], 2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2 candidates need 8 inputs");
  }
}
