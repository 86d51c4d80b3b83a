package org.rankadaptor.dl4j.recover;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.llama.AdaLoraAdapters;
import org.rankadaptor.dl4j.llama.LlamaConfig;
import org.rankadaptor.dl4j.llama.LoraAdapter;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.llama.SvdAdapter;

/**
 * AdaLoRA as PEFT trains it. Each adapted module holds a triplet per initial rank, {@code P} (out, r),
 * {@code lambda} (r, 1) and {@code Q} (r, in), applied as the LoRA adapter {@code A = diag(lambda) Q},
 * {@code B = P} with scaling {@code alpha / (r + 1e-5)}; the gradients of P, lambda and Q follow from those
 * of A and B by the chain rule. Besides:
 *
 * <ul>
 *   <li>the orthogonality regulariser: {@code orth_reg_weight} times the mean, over every P and Q, of
 *       {@code ||Q Q^T - I||_F} and {@code ||P^T P - I||_F} (PEFT's form: Frobenius norms, not their
 *       squares as in the paper);
 *   <li>after each update, while the budgeting phase lasts, the importance of every element, {@code |w *
 *       dL/dw|}, smoothed with {@code beta1} and its uncertainty with {@code beta2}; a triplet's score is
 *       its lambda's score plus the mean score of its row of Q and of its column of P;
 *   <li>at the {@link BudgetSchedule}'s maskings, every triplet scoring at or below the k-th smallest
 *       score (k = initial budget - budget) gets lambda 0; after the final masking the mask is fixed and
 *       re-applied after every update.
 * </ul>
 *
 * <p>The kept state is the best validated one among those within the final budget (and the untrained
 * start, which a recovery must beat).
 */
final class AdaLoraTraining implements TrainableAdapters {

  /** PEFT adds this to the rank before dividing alpha by it. */
  static final double RANK_EPSILON = 1e-5;

  /** PEFT's initialisation of P and Q: normal with this standard deviation; lambda starts at 0. */
  static final double INIT_STD = 0.02;

  /** One adapted module's trainable triplets and running state. */
  private static final class Module {
    final int layer;
    final LoraTarget target;
    final INDArray p;
    final INDArray lambda;
    final INDArray q;
    final INDArray effectiveA; // diag(lambda) Q, what the model applies
    final double scaling;
    final boolean[] kept;
    final INDArray[] sensitivity = new INDArray[3]; // smoothed |w * grad| of Q, lambda, P
    final INDArray[] uncertainty = new INDArray[3];

    Module(int layer, LoraTarget target, INDArray p, INDArray lambda, INDArray q, double scaling) {
      this.layer = layer;
      this.target = target;
      this.p = p;
      this.lambda = lambda;
      this.q = q;
      this.effectiveA = q.ulike();
      this.scaling = scaling;
      this.kept = new boolean[(int) q.size(0)];
      Arrays.fill(kept, true);
    }

    int rank() {
      return kept.length;
    }

    void refreshEffectiveA() {
      effectiveA.assign(q).muliColumnVector(lambda);
    }
  }

  private final List<Module> modules = new ArrayList<>();
  private final List<INDArray> parameters = new ArrayList<>();
  private final LoraAdapters adapters;
  private final AdaLoraSettings settings;
  private final BudgetSchedule schedule;
  private final int totalSteps;
  private final double dropout;
  private final List<Double> regularizer = new ArrayList<>();
  private final List<Long> budgets = new ArrayList<>();
  private AdaLoraAdapters best;

  /**
   * Fresh triplets, drawn as PEFT draws them, each module from its own stream of {@code seed}.
   *
   * @param initialRanks initial rank per layer; 0: no adapters there
   * @param alphas the LoRA alpha of each layer
   */
  AdaLoraTraining(LlamaConfig config, int[] initialRanks, double[] alphas, Set<LoraTarget> targets, double dropout,
      AdaLoraSettings settings, int totalSteps, long seed, DataType dtype) {
    this.settings = settings;
    this.totalSteps = totalSteps;
    this.dropout = dropout;
    List<Map<LoraTarget, LoraAdapter>> layers = new ArrayList<>();
    long initialBudget = 0;
    for (int l = 0; l < initialRanks.length; l++) {
      Map<LoraTarget, LoraAdapter> layer = new EnumMap<>(LoraTarget.class);
      int rank = initialRanks[l];
      if (rank > 0) {
        for (LoraTarget target : targets) {
          int in = config.layer(l).inFeatures(target, config.dim());
          int out = config.layer(l).outFeatures(target, config.dim());
          SplittableRandom random = new SplittableRandom(seed + 0x9E3779B97F4A7C15L * (l * 16L + target.ordinal() + 1));
          INDArray q = gaussian(random, dtype, rank, in);
          INDArray p = gaussian(random, dtype, out, rank);
          Module m = new Module(l, target, p, Nd4j.zeros(dtype, rank, 1), q, alphas[l] / (rank + RANK_EPSILON));
          m.refreshEffectiveA();
          modules.add(m);
          parameters.add(m.q);
          parameters.add(m.lambda);
          parameters.add(m.p);
          layer.put(target, new LoraAdapter(m.effectiveA, m.p, m.scaling));
          initialBudget += rank;
        }
      }
      layers.add(layer);
    }
    this.adapters = LoraAdapters.of(layers, dropout);
    this.schedule = new BudgetSchedule(initialBudget, (long) settings.targetR() * modules.size(), settings.tinit(),
        settings.tfinal(), totalSteps, settings.deltaT());
  }

  private static INDArray gaussian(SplittableRandom random, DataType dtype, int rows, int columns) {
    double[] values = new double[rows * columns];
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextGaussian() * INIT_STD;
    }
    return Nd4j.create(values, new long[] {rows, columns}, DataType.DOUBLE).castTo(dtype);
  }

  @Override
  public List<INDArray> parameters() {
    return parameters;
  }

  @Override
  public LoraAdapters adapters() {
    return adapters;
  }

  @Override
  public void addGradients(LoraAdapters adapterGradients, double weight, List<INDArray> gradients) {
    for (int i = 0; i < modules.size(); i++) {
      Module m = modules.get(i);
      LoraAdapter g = adapterGradients.get(m.layer, m.target);
      // A = diag(lambda) Q: dQ = diag(lambda) dA, dlambda_i = sum_j dA_ij Q_ij; B = P: dP = dB.
      gradients.get(3 * i).addi(g.a().mulColumnVector(m.lambda).muli(weight));
      gradients.get(3 * i + 1).addi(g.a().mul(m.q).sum(true, 1).muli(weight));
      gradients.get(3 * i + 2).addi(g.b().mul(weight));
    }
  }

  @Override
  public double addRegularizer(List<INDArray> gradients) {
    if (settings.orthRegWeight() == 0 || modules.isEmpty()) {
      regularizer.add(0.0);
      return 0;
    }
    double factor = settings.orthRegWeight() / (2.0 * modules.size());
    double sum = 0;
    for (int i = 0; i < modules.size(); i++) {
      Module m = modules.get(i);
      sum += orthogonality(m.q, false, factor, gradients.get(3 * i));
      sum += orthogonality(m.p, true, factor, gradients.get(3 * i + 2));
    }
    double value = factor * sum;
    regularizer.add(value);
    return value;
  }

  /**
   * {@code ||M||_F} for {@code M = Q Q^T - I} (or {@code P^T P - I} when {@code columns}), adding {@code factor}
   * times its gradient, {@code 2 M Q / ||M||} (or {@code 2 P M / ||M||}), into {@code gradient}.
   */
  static double orthogonality(INDArray x, boolean columns, double factor, INDArray gradient) {
    INDArray gram = columns ? x.transpose().mmul(x) : x.mmul(x.transpose());
    gram.subi(Nd4j.eye(gram.size(0)).castTo(x.dataType()));
    double norm = gram.norm2Number().doubleValue();
    if (norm > 0) {
      INDArray g = columns ? x.mmul(gram) : gram.mmul(x);
      gradient.addi(g.muli(2 * factor / norm));
    }
    return norm;
  }

  @Override
  public void afterUpdate(int step, List<INDArray> gradients) {
    int finalStep = schedule.finalMaskStep();
    if (step < totalSteps - settings.tfinal()) {
      updateImportance(gradients);
    }
    BudgetSchedule.Budget budget = schedule.at(step);
    if (step == finalStep) {
      maskTo(schedule.targetBudget());
    } else if (step > finalStep) {
      applyMask();
    } else if (budget.mask()) {
      maskTo(budget.triplets());
    }
    budgets.add(step >= finalStep ? schedule.targetBudget() : budget.triplets());
    refresh();
  }

  /** Recomputes the applied adapters from the triplets, after they changed. */
  void refresh() {
    for (Module m : modules) {
      m.refreshEffectiveA();
    }
  }

  private void updateImportance(List<INDArray> gradients) {
    double b1 = settings.beta1();
    double b2 = settings.beta2();
    for (int i = 0; i < modules.size(); i++) {
      Module m = modules.get(i);
      INDArray[] values = {m.q, m.lambda, m.p};
      for (int k = 0; k < 3; k++) {
        INDArray importance = Transforms.abs(values[k].mul(gradients.get(3 * i + k)), false);
        if (m.sensitivity[k] == null) {
          m.sensitivity[k] = importance.ulike().assign(0);
          m.uncertainty[k] = importance.ulike().assign(0);
        }
        m.sensitivity[k].muli(b1).addi(importance.mul(1 - b1));
        m.uncertainty[k].muli(b2).addi(Transforms.abs(importance.sub(m.sensitivity[k]), false).muli(1 - b2));
      }
    }
  }

  /** Each module's triplet scores, in module order. */
  double[][] tripletScores() {
    double[][] out = new double[modules.size()][];
    for (int i = 0; i < modules.size(); i++) {
      Module m = modules.get(i);
      if (m.sensitivity[0] == null) {
        out[i] = new double[m.rank()];
        continue;
      }
      INDArray qScore = m.sensitivity[0].mul(m.uncertainty[0]).mean(true, 1); // (r, 1)
      INDArray lambdaScore = m.sensitivity[1].mul(m.uncertainty[1]); // (r, 1)
      INDArray pScore = m.sensitivity[2].mul(m.uncertainty[2]).mean(true, 0); // (1, r)
      INDArray score = lambdaScore.add(qScore).addi(pScore.reshape(m.rank(), 1));
      out[i] = score.castTo(DataType.DOUBLE).dup().data().asDouble();
    }
    return out;
  }

  /** Masks every triplet scoring at or below the k-th smallest score, k = initial budget - budget. */
  private void maskTo(long budget) {
    long k = schedule.initialBudget() - budget;
    double[][] scores = tripletScores();
    if (k <= 0) {
      for (Module m : modules) {
        Arrays.fill(m.kept, true);
      }
      return;
    }
    double[] all = Arrays.stream(scores).flatMapToDouble(Arrays::stream).sorted().toArray();
    double threshold = all[(int) k - 1];
    for (int i = 0; i < modules.size(); i++) {
      Module m = modules.get(i);
      for (int r = 0; r < m.rank(); r++) {
        m.kept[r] = scores[i][r] > threshold;
      }
    }
    applyMask();
  }

  private void applyMask() {
    for (Module m : modules) {
      for (int r = 0; r < m.rank(); r++) {
        if (!m.kept[r]) {
          m.lambda.putScalar(r, 0, 0.0);
        }
      }
    }
  }

  @Override
  public boolean keepable(int completedSteps) {
    return completedSteps == 0 || completedSteps == totalSteps || completedSteps - 1 >= schedule.finalMaskStep();
  }

  @Override
  public void keep() {
    best = current();
  }

  /** The triplets and mask as they are now, copied. */
  AdaLoraAdapters current() {
    List<Map<LoraTarget, SvdAdapter>> layers = new ArrayList<>();
    for (int l = 0; l < adapters.nLayers(); l++) {
      layers.add(new EnumMap<>(LoraTarget.class));
    }
    for (Module m : modules) {
      layers.get(m.layer).put(m.target, new SvdAdapter(m.p.dup(), m.lambda.dup(), m.q.dup(), m.kept, m.scaling));
    }
    return AdaLoraAdapters.of(layers, dropout);
  }

  /** The kept state. */
  AdaLoraAdapters kept() {
    return best;
  }

  /** The regulariser's value at each step. */
  List<Double> regularizerTrace() {
    return List.copyOf(regularizer);
  }

  /** The budget of kept triplets after each step. */
  List<Long> budgetTrace() {
    return List.copyOf(budgets);
  }

  /** The schedule this training follows. */
  BudgetSchedule schedule() {
    return schedule;
  }
}
