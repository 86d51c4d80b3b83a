package org.rankadaptor.dl4j.predictor;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores large batches of candidates with trained networks, far faster than
 * {@link MultiLayerNetwork#output}: the weights are copied into plain float arrays once and evaluated
 * by a blocked, multi-threaded Java kernel. The result equals DL4J's output up to float rounding
 * (within 1e-5 for outputs of order 1).
 *
 * <p>The kernel uses the Java Vector API when the JVM was started with
 * {@code --add-modules jdk.incubator.vector}, and otherwise a plain-Java kernel that HotSpot
 * auto-vectorises; {@link #kernelName()} tells which. Batches are split over the common fork-join pool;
 * each candidate's score depends only on its own inputs, so results do not depend on the split.
 *
 * <p>Immutable and thread-safe: a snapshot of the networks at the time it was made.
 *
 * @since 0.1.0
 */
public final class MlpScorer {
  private static final Logger log = LoggerFactory.getLogger(MlpScorer.class);

  /** Batches up to this size are scored on the calling thread. */
  private static final int SEQUENTIAL_LIMIT = 2048;

  private static final Kernel PREFERRED = preferredKernel();

  private final ImmutableList<Kernel.Network> members; // (member)
  private final int inputs;
  private final Kernel kernel;

  private MlpScorer(List<DenseWeights[]> members, Kernel kernel) {
    this.members = members.stream().map(kernel::prepare).collect(ImmutableList.toImmutableList());
    this.inputs = members.get(0)[0].inputs();
    this.kernel = kernel;
  }

  /**
   * A scorer for one or more networks of the same input width, each a stack of dense layers with ReLU
   * activations and a single linear output (the shape {@link MlpPerformanceModel} trains).
   *
   * @throws IllegalArgumentException if a network has another shape or activation
   */
  public static MlpScorer of(List<MultiLayerNetwork> networks) {
    return of(networks, PREFERRED);
  }

  static MlpScorer of(List<MultiLayerNetwork> networks, Kernel kernel) {
    checkArgument(!networks.isEmpty(), "a scorer needs at least one network");
    List<DenseWeights[]> members = networks.stream().map(MlpScorer::copyWeights).toList();
    int inputs = members.get(0)[0].inputs();
    for (DenseWeights[] member : members) {
      checkArgument(member[0].inputs() == inputs, "networks have different input widths: %s and %s",
          inputs, member[0].inputs());
    }
    return new MlpScorer(members, kernel);
  }

  /** The plain-Java kernel, whatever the JVM offers (for tests and benchmarks). */
  static Kernel scalarKernel() {
    return new ScalarKernel();
  }

  /** The Vector API kernel, or {@code null} when the JVM was started without the module. */
  static Kernel vectorKernel() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      return null;
    }
    try {
      return (Kernel) Class.forName("org.rankadaptor.dl4j.predictor.VectorKernel")
          .getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException | LinkageError e) {
      log.debug("the Vector API kernel is unavailable, using the plain-Java kernel: {}", e.toString());
      return null;
    }
  }

  private static Kernel preferredKernel() {
    Kernel vector = vectorKernel();
    return vector != null ? vector : scalarKernel();
  }

  /** Whether this JVM runs the Vector API kernel (started with the incubator module). */
  public static boolean vectorApiAvailable() {
    return !(PREFERRED instanceof ScalarKernel);
  }

  /** Number of inputs per candidate. */
  public int inputs() {
    return inputs;
  }

  /** Number of networks scored together. */
  public int members() {
    return members.size();
  }

  /** The kernel in use: {@code scalar} or {@code vector-<bits>}. */
  public String kernelName() {
    return kernel.name();
  }

  /**
   * Scores {@code count} candidates with every network.
   *
   * @param inputs row-major, {@link #inputs()} values per candidate, as the networks were trained on
   * @param out {@code out[member]} receives the scores of that network; each at least {@code count} long
   */
  public void score(float[] inputs, int count, float[][] out) {
    checkArgument(count >= 0 && (long) count * this.inputs <= inputs.length,
        "%s candidates need %s inputs, got %s", count, (long) count * this.inputs, inputs.length);
    checkArgument(out.length == members.size(), "expected %s output arrays, got %s", members.size(), out.length);
    for (float[] o : out) {
      checkArgument(o.length >= count, "output array of %s for %s candidates", o.length, count);
    }
    if (count <= SEQUENTIAL_LIMIT) {
      scoreRange(inputs, 0, count, out);
      return;
    }
    int threads = Math.max(1, ForkJoinPool.getCommonPoolParallelism() + 1);
    int chunk = roundUp(Math.max(1024, (count + 4 * threads - 1) / (4 * threads)), 256);
    int chunks = (count + chunk - 1) / chunk;
    IntStream.range(0, chunks).parallel().forEach(
        k -> scoreRange(inputs, k * chunk, Math.min(count, (k + 1) * chunk), out));
  }

  /** Scores {@code count} candidates with a single-network scorer. */
  public float[] score(float[] inputs, int count) {
    checkArgument(members.size() == 1, "this scorer holds %s networks; use score(inputs, count, out)", members.size());
    float[][] out = {new float[count]};
    score(inputs, count, out);
    return out[0];
  }

  private void scoreRange(float[] inputs, int from, int to, float[][] out) {
    for (int m = 0; m < members.size(); m++) {
      members.get(m).score(inputs, from, to, out[m]);
    }
  }

  private static int roundUp(int value, int multiple) {
    return (value + multiple - 1) / multiple * multiple;
  }

  private static DenseWeights[] copyWeights(MultiLayerNetwork net) {
    Layer[] layers = net.getLayers();
    checkArgument(layers.length >= 1, "the network has no layers");
    DenseWeights[] out = new DenseWeights[layers.length];
    for (int j = 0; j < layers.length; j++) {
      org.deeplearning4j.nn.conf.layers.Layer conf = layers[j].conf().getLayer();
      boolean last = j == layers.length - 1;
      checkArgument(conf instanceof BaseLayer && (conf instanceof DenseLayer || last),
          "layer %s is a %s; the scorer handles dense layers only", j, conf.getClass().getSimpleName());
      IActivation activation = ((BaseLayer) conf).getActivationFn();
      checkArgument(last ? activation instanceof ActivationIdentity : activation instanceof ActivationReLU,
          "layer %s has activation %s; the scorer handles ReLU hidden layers and a linear output", j, activation);
      float[][] w = layers[j].getParam("W").toFloatMatrix(); // (inputs, outputs)
      float[] b = layers[j].getParam("b").toFloatVector(); // (outputs)
      int nIn = w.length;
      int nOut = b.length;
      float[] transposed = new float[nIn * nOut];
      for (int i = 0; i < nIn; i++) {
        for (int o = 0; o < nOut; o++) {
          transposed[o * nIn + i] = w[i][o];
        }
      }
      out[j] = new DenseWeights(nIn, nOut, transposed, b, !last);
    }
    checkArgument(out[out.length - 1].outputs() == 1, "the network has %s outputs; the scorer needs one",
        out[out.length - 1].outputs());
    return out;
  }
}
