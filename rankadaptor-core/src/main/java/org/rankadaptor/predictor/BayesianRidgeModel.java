package org.rankadaptor.predictor;

import org.rankadaptor.AtomicFiles;
import static com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.rankadaptor.Observation;
import org.rankadaptor.PerformanceModel;
import org.rankadaptor.Predictions;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;

/**
 * A performance model without any tensor library: Bayesian linear regression on quadratic features of
 * the log-ranks (each searched layer's log-rank, its square, and the product of adjacent layers).
 * It gives a predictive mean and standard deviation, so every acquisition rule works with it.
 *
 * <ul>
 *   <li>Meta-learning: fits each source task alone (targets standardised per task) and uses the mean of
 *       those weight vectors as the prior mean for the target task, with a prior precision from their
 *       spread (empirical Bayes across tasks).
 *   <li>Online updates: the posterior is a function of sufficient statistics ({@code Phi^T Phi},
 *       {@code Phi^T y}, count, sum, sum of squares), so each observation is an O(D^2) update of the
 *       current state followed by a D x D solve, with D = 3 x searched layers. Targets are standardised
 *       with the target's own mean (from its first observation) and standard deviation (from its
 *       second), so source tasks on other scales transfer the shape of the response, not its level.
 * </ul>
 *
 * <p>Deterministic: no random choices.
 *
 * @since 0.1.0
 */
public final class BayesianRidgeModel implements PerformanceModel {
  private static final String FORMAT = "rankadaptor-bayesian-ridge/1";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final RankSpace space;
  private final int[] searched;
  private final double[] center; // (searched layer) midpoint of log2 candidates
  private final double[] halfRange; // (searched layer)
  private final int dims;
  private final double noiseVariance; // in standardised target units

  // Prior, set by meta-learning.
  private double[] priorMean; // (dims)
  private double priorPrecision;
  private double fallbackMean;
  private double fallbackStd;

  // Sufficient statistics of the target task.
  private double[][] gram; // (dims, dims) Phi^T Phi
  private double[] moment; // (dims) Phi^T y
  private int count;
  private double sum;
  private double sumSquares;

  // Posterior, recomputed after every change.
  private double[] weights; // (dims)
  private double[][] covarianceFactor; // lower Cholesky factor of the posterior precision
  private double targetMean;
  private double targetStd;

  /** A model with prior precision 1 and noise variance 0.1 (in standardised units). */
  public BayesianRidgeModel(RankSpace space) {
    this(space, 1.0, 0.1);
  }

  /**
   * @param priorPrecision precision of the zero-mean prior on the weights before meta-learning
   * @param noiseVariance observation noise variance, in units of the standardised target
   */
  public BayesianRidgeModel(RankSpace space, double priorPrecision, double noiseVariance) {
    checkArgument(priorPrecision > 0, "prior precision must be > 0, got %s", priorPrecision);
    checkArgument(noiseVariance > 0, "noise variance must be > 0, got %s", noiseVariance);
    this.space = space;
    this.searched = space.searchedLayers();
    this.center = new double[searched.length];
    this.halfRange = new double[searched.length];
    for (int i = 0; i < searched.length; i++) {
      List<Integer> candidates = space.candidates(searched[i]);
      double lo = log2(candidates.get(0));
      double hi = log2(candidates.get(candidates.size() - 1));
      center[i] = (lo + hi) / 2;
      halfRange[i] = Math.max((hi - lo) / 2, 1e-9);
    }
    this.dims = 1 + 2 * searched.length + Math.max(searched.length - 1, 0);
    this.noiseVariance = noiseVariance;
    this.priorMean = new double[dims];
    this.priorPrecision = priorPrecision;
    this.fallbackMean = 0;
    this.fallbackStd = 1;
    resetTarget();
  }

  @Override
  public RankSpace space() {
    return space;
  }

  @Override
  public boolean hasUncertainty() {
    return true;
  }

  @Override
  public void metaLearn(Map<String, List<Observation>> observationsByTask) {
    checkArgument(!observationsByTask.isEmpty(), "meta-learning needs at least one source task");
    List<double[]> taskWeights = new ArrayList<>();
    double means = 0;
    double stds = 0;
    for (Map.Entry<String, List<Observation>> task : observationsByTask.entrySet()) {
      List<Observation> observations = task.getValue();
      checkArgument(!observations.isEmpty(), "source task %s has no observations", task.getKey());
      double[][] phi = features(observations);
      double[] y = targets(observations);
      double mean = mean(y);
      double std = std(y, mean);
      double[][] g = new double[dims][dims];
      double[] m = new double[dims];
      for (int n = 0; n < y.length; n++) {
        accumulate(g, m, phi[n], (y[n] - mean) / std);
      }
      taskWeights.add(solvePosterior(g, m, new double[dims], 1.0).weights);
      means += mean;
      stds += std;
    }
    double[] mean = new double[dims];
    for (double[] w : taskWeights) {
      for (int d = 0; d < dims; d++) {
        mean[d] += w[d] / taskWeights.size();
      }
    }
    double spread = 0;
    for (double[] w : taskWeights) {
      for (int d = 0; d < dims; d++) {
        spread += (w[d] - mean[d]) * (w[d] - mean[d]);
      }
    }
    // Empirical Bayes: the tasks' weights scatter around the shared mean with this precision. With a
    // single task there is no spread to measure, so a moderate confidence is assumed.
    double precision = taskWeights.size() > 1 ? dims * (taskWeights.size() - 1) / Math.max(spread, 1e-9) : 4.0;
    this.priorMean = mean;
    this.priorPrecision = Math.min(Math.max(precision, 1.0), 1000.0);
    this.fallbackMean = means / observationsByTask.size();
    this.fallbackStd = stds / observationsByTask.size();
    resetTarget();
  }

  @Override
  public void update(List<Observation> newObservations) {
    double[][] phi = features(newObservations); // validates before anything changes
    double[] y = targets(newObservations);
    for (int n = 0; n < y.length; n++) {
      accumulate(gram, moment, phi[n], y[n]);
      count++;
      sum += y[n];
      sumSquares += y[n] * y[n];
    }
    refresh();
  }

  @Override
  public Predictions predict(List<RankConfig> candidates) {
    double[] mean = new double[candidates.size()];
    double[] std = new double[candidates.size()];
    double[] phi = new double[dims];
    double[] solved = new double[dims];
    for (int c = 0; c < candidates.size(); c++) {
      featurize(space.encode(candidates.get(c)), phi);
      double dot = 0;
      for (int d = 0; d < dims; d++) {
        dot += phi[d] * weights[d];
      }
      // phi^T P^-1 phi = |L^-1 phi|^2 with P = L L^T.
      Cholesky.forward(covarianceFactor, phi, solved);
      double variance = noiseVariance;
      for (int d = 0; d < dims; d++) {
        variance += solved[d] * solved[d];
      }
      mean[c] = targetMean + targetStd * dot;
      std[c] = targetStd * Math.sqrt(variance);
    }
    return new Predictions(mean, std);
  }

  /** Number of target-task observations the model has been updated with. */
  public int observationCount() {
    return count;
  }

  @Override
  public void save(Path path) throws IOException {
    Saved saved = new Saved(FORMAT, space.describe(), noiseVariance, priorMean, priorPrecision, fallbackMean,
        fallbackStd, gram, moment, count, sum, sumSquares);
    AtomicFiles.writeString(path, JSON.writeValueAsString(saved));
  }

  /**
   * Reads a model written by {@link #save} for the same space.
   *
   * @throws IOException if the file is not such a model or was written for another space
   */
  public static BayesianRidgeModel load(Path path, RankSpace space) throws IOException {
    Saved saved;
    try {
      saved = JSON.readValue(path.toFile(), Saved.class);
    } catch (IOException e) {
      throw new IOException(path + " is not a saved Bayesian ridge model: " + e.getMessage(), e);
    }
    if (!FORMAT.equals(saved.format())) {
      throw new IOException(path + " has format " + saved.format() + ", expected " + FORMAT);
    }
    if (!space.describe().equals(saved.space())) {
      throw new IOException(path + " was written for the space '" + saved.space() + "', not '" + space.describe() + "'");
    }
    BayesianRidgeModel model = new BayesianRidgeModel(space, saved.priorPrecision(), saved.noiseVariance());
    if (saved.priorMean().length != model.dims || saved.moment().length != model.dims || saved.gram().length != model.dims) {
      throw new IOException(path + " has weight vectors of the wrong length for this space");
    }
    model.priorMean = saved.priorMean();
    model.fallbackMean = saved.fallbackMean();
    model.fallbackStd = saved.fallbackStd();
    model.gram = saved.gram();
    model.moment = saved.moment();
    model.count = saved.count();
    model.sum = saved.sum();
    model.sumSquares = saved.sumSquares();
    model.refresh();
    return model;
  }

  record Saved(String format, String space, double noiseVariance, double[] priorMean, double priorPrecision,
      double fallbackMean, double fallbackStd, double[][] gram, double[] moment, int count, double sum,
      double sumSquares) {}

  private void resetTarget() {
    gram = new double[dims][dims];
    moment = new double[dims];
    count = 0;
    sum = 0;
    sumSquares = 0;
    refresh();
  }

  /** Recomputes the posterior from the prior and the sufficient statistics. */
  private void refresh() {
    // Standardise with the target's own statistics: its level from its first observation, its scale
    // from its second. Before that the sources' fallback only sets the units of predictions, never the
    // weights: one standardised observation is 0 whatever the scale. (Standardising the first target
    // observations with the sources' level, on another scale, sent early picks to far worse regions.)
    targetMean = count >= 1 ? sum / count : fallbackMean;
    double variance = count >= 2 ? sumSquares / count - (sum / count) * (sum / count) : 0;
    targetStd = variance > 1e-24 ? Math.sqrt(variance) : fallbackStd;
    // Phi^T y' with y' = (y - mean) / std; Phi^T 1 is the Gram matrix's first column (phi_0 = 1).
    double[] standardised = new double[dims];
    for (int d = 0; d < dims; d++) {
      standardised[d] = (moment[d] - targetMean * gram[d][0]) / targetStd;
    }
    Posterior posterior = solvePosterior(gram, standardised, priorMean, priorPrecision);
    weights = posterior.weights;
    covarianceFactor = posterior.factor;
  }

  private record Posterior(double[] weights, double[][] factor) {}

  /** Posterior of w given prior N(m0, I/alpha) and data: P = alpha I + G / s2, w = P^-1 (alpha m0 + b / s2). */
  private Posterior solvePosterior(double[][] g, double[] b, double[] m0, double alpha) {
    double[][] precision = new double[dims][dims];
    double[] rhs = new double[dims];
    for (int i = 0; i < dims; i++) {
      for (int j = 0; j < dims; j++) {
        precision[i][j] = g[i][j] / noiseVariance;
      }
      precision[i][i] += alpha;
      rhs[i] = alpha * m0[i] + b[i] / noiseVariance;
    }
    double[][] factor = Cholesky.factor(precision);
    return new Posterior(Cholesky.solve(factor, rhs), factor);
  }

  private static void accumulate(double[][] g, double[] m, double[] phi, double y) {
    for (int i = 0; i < phi.length; i++) {
      for (int j = 0; j < phi.length; j++) {
        g[i][j] += phi[i] * phi[j];
      }
      m[i] += phi[i] * y;
    }
  }

  private double[][] features(List<Observation> observations) {
    double[][] phi = new double[observations.size()][dims];
    for (int n = 0; n < observations.size(); n++) {
      Observation o = observations.get(n);
      checkArgument(o.succeeded() && Double.isFinite(o.score()),
          "observation %s of task %s has no finite score (%s)", o.config(), o.taskId(), o.score());
      space.validate(o.config());
      featurize(space.encode(o.config()), phi[n]);
    }
    return phi;
  }

  private static double[] targets(List<Observation> observations) {
    return observations.stream().mapToDouble(Observation::score).toArray();
  }

  private void featurize(double[] ranks, double[] phi) {
    int l = searched.length;
    phi[0] = 1;
    double previous = 0;
    for (int i = 0; i < l; i++) {
      double z = (log2(ranks[i]) - center[i]) / halfRange[i];
      phi[1 + i] = z;
      phi[1 + l + i] = z * z;
      if (i > 0) {
        phi[2 * l + i] = previous * z;
      }
      previous = z;
    }
  }

  private static double log2(double rank) {
    return Math.log(Math.max(rank, 1)) / Math.log(2);
  }

  private static double mean(double[] y) {
    double s = 0;
    for (double v : y) {
      s += v;
    }
    return s / y.length;
  }

  private static double std(double[] y, double mean) {
    double s = 0;
    for (double v : y) {
      s += (v - mean) * (v - mean);
    }
    double std = y.length > 1 ? Math.sqrt(s / y.length) : 0;
    return std > 1e-12 ? std : 1.0;
  }
}
