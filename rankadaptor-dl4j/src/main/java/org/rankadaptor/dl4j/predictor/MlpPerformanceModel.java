package org.rankadaptor.dl4j.predictor;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.rankadaptor.Observation;
import org.rankadaptor.PerformanceModel;
import org.rankadaptor.Predictions;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.Seeds;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The paper's performance model on DL4J: an ensemble of multilayer perceptrons from the rank encoding
 * ({@link RankSpace#encode}: one rank per searched layer) through ReLU hidden layers (32-32-32 by
 * default) to one linear output, trained with MSE, Adam and an L2 penalty (with a few hundred observations in 26 dimensions an
 * unregularised network interpolates the data and generalises worse than a linear fit).
 *
 * <ul>
 *   <li><b>Normalisation.</b> Each input is the log2 of the rank (rank steps act multiplicatively),
 *       standardised with the mean and spread over its layer's candidates (fixed by the space, so it
 *       never shifts under the model). Targets are
 *       standardised with the target task's own mean (from its first observation) and, from
 *       {@value #MIN_OWN_SCALE} observations on, its own standard deviation, so that source tasks on
 *       other scales transfer the shape of the response and not its level; before that with the average
 *       of the source tasks' (which sets only the units of the first predictions, not their order).
 *   <li><b>Offline meta-learning</b> ({@link #metaLearn}): Reptile on the source tasks, each task's
 *       scores standardised on their own, gives every network a starting point from which a few
 *       observations of a related task suffice (see {@link Member#reptile}).
 *   <li><b>Online learning</b> ({@link #update}): each call continues training from the current state
 *       for {@code max(minUpdateSteps, stepsPerObservation x new observations)} Adam steps on
 *       mini-batches of the target observations so far (a replay of up to {@code replayCapacity}),
 *       never from scratch. {@link #fit} is the from-scratch alternative.
 *   <li><b>Uncertainty.</b> With {@code ensembleSize} K &gt; 1 the networks differ in their seeds
 *       (initialisation and mini-batch order) and in their data: each trains on its own bootstrap
 *       sample (every observation weighted by a Poisson(1) draw fixed by the network's seed and the
 *       observation, so a network keeps its sample as observations arrive). The prediction is their
 *       mean and the standard deviation is their spread (population form), which grows where the model
 *       has seen little; UCB, Thompson sampling and the default stopping rule use it. K = 1 gives no
 *       standard deviation and trains on the data as it is.
 *   <li><b>Fast prediction.</b> {@link #predict} always goes through an {@link MlpScorer} snapshot of
 *       the trained weights, so one candidate and a million get the same numbers.
 * </ul>
 *
 * <p>Every call validates its whole input before anything changes and trains copies of the networks,
 * swapping them in only on success: a rejected call, or training that diverges, leaves the model as
 * it was. Deterministic: the same configuration, seed and sequence of calls give identical predictions.
 * Not thread-safe for concurrent training; {@link #predict} may run alongside other predictions.
 *
 * @since 0.1.0
 */
public final class MlpPerformanceModel implements PerformanceModel {
  private static final Logger log = LoggerFactory.getLogger(MlpPerformanceModel.class);

  /** Target observations needed before their own standard deviation sets the target scale. */
  static final int MIN_OWN_SCALE = 2;

  private final RankSpace space;
  private final MlpConfig config;
  private final int[] widths; // input, hidden..., 1
  private final InputEncoding encoding;
  private volatile long seed; // of fresh networks; the configuration's until reseeded
  private volatile TrainingState state;

  /** A model with the paper's settings ({@link MlpConfig#paper()}). */
  public MlpPerformanceModel(RankSpace space) {
    this(space, MlpConfig.paper());
  }

  /**
   * @throws IllegalArgumentException if the space has no searched layer
   */
  public MlpPerformanceModel(RankSpace space, MlpConfig config) {
    checkArgument(space.searchedLayerCount() >= 1, "the space %s has no searched layer to predict from",
        space.describe());
    Nd4jRuntime.ensureInitialized();
    this.space = space;
    this.config = config;
    this.widths = config.widths(space.searchedLayerCount());
    this.encoding = new InputEncoding(space);
    this.seed = config.seed();
    this.state = TrainingState.initial(freshMembers());
  }

  @Override
  public RankSpace space() {
    return space;
  }

  /** The settings this model was made with. */
  public MlpConfig config() {
    return config;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Networks made from now on (by {@link #metaLearn}, or at once while nothing has been learned)
   * take their initialisation, mini-batch order and bootstrap samples from {@code seed}; a model that
   * has learned keeps its networks.
   */
  @Override
  public void reseed(long seed) {
    this.seed = seed;
    TrainingState current = state;
    if (current.count == 0 && current.sourceTasks == 0) {
      state = TrainingState.initial(freshMembers());
    }
  }

  @Override
  public boolean hasUncertainty() {
    return config.ensembleSize() > 1;
  }

  /** Whether the networks train on bootstrap samples: only an ensemble needs their spread. */
  private boolean bootstrap() {
    return config.ensembleSize() > 1;
  }

  /** Number of target-task observations learned so far (by {@link #update} or {@link #fit}). */
  public long observationCount() {
    return state.count;
  }

  /** Number of source tasks of the last {@link #metaLearn}; 0 if never meta-learned. */
  public int sourceTaskCount() {
    return state.sourceTasks;
  }

  /**
   * The settings, the seeds of the networks predicting now, and what they learned from: for a run's
   * provenance record.
   */
  public PredictorProvenance provenance() {
    TrainingState current = state;
    return new PredictorProvenance(MlpPerformanceModel.class.getSimpleName(), config,
        current.members.stream().map(Member::seed).toList(), current.sourceTasks, current.count);
  }

  /**
   * A copy of one ensemble member as a DL4J network, to export it or to use DL4J's tools on it. The
   * model itself predicts with its own scorer, not with DL4J; this is the one way out to DL4J's types.
   */
  public MultiLayerNetwork network(int member) {
    checkArgument(member >= 0 && member < config.ensembleSize(), "member %s is outside 0..%s", member,
        config.ensembleSize() - 1);
    return state.members.get(member).copy().network();
  }

  /** The scorer {@link #predict} uses: a snapshot of the current networks. */
  public MlpScorer scorer() {
    return state.scorer;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Each network restarts from its seeded initialisation and runs {@code metaIterations} Reptile
   * iterations over the tasks (taken in task-id order, so the map's iteration order does not matter).
   * Target observations learned before are forgotten.
   */
  @Override
  public void metaLearn(Map<String, List<Observation>> observationsByTask) {
    checkArgument(observationsByTask != null && !observationsByTask.isEmpty(),
        "meta-learning needs at least one source task");
    List<float[][]> inputs = new ArrayList<>();
    List<float[]> targets = new ArrayList<>();
    double meanSum = 0;
    double stdSum = 0;
    int observations = 0;
    for (Map.Entry<String, List<Observation>> task : new TreeMap<>(observationsByTask).entrySet()) {
      List<Observation> list = task.getValue();
      checkArgument(list != null && !list.isEmpty(), "source task %s has no observations", task.getKey());
      Examples examples = examples(list);
      double mean = TrainingState.mean(examples.y);
      double std = TrainingState.std(examples.y, mean);
      float[] z = new float[examples.y.length];
      for (int n = 0; n < z.length; n++) {
        z[n] = (float) ((examples.y[n] - mean) / std);
      }
      inputs.add(examples.x);
      targets.add(z);
      meanSum += mean;
      stdSum += std;
      observations += list.size();
    }
    List<Member> members = freshMembers();
    eachInParallel(members, member -> {
      List<float[][]> memberInputs = new ArrayList<>();
      List<float[]> memberTargets = new ArrayList<>();
      for (int t = 0; t < inputs.size(); t++) {
        Bootstrap.Sample sample = bootstrap()
            ? Bootstrap.resample(inputs.get(t), targets.get(t), Seeds.mix(member.seed(), -2 - t))
            : new Bootstrap.Sample(inputs.get(t), targets.get(t));
        memberInputs.add(sample.x());
        memberTargets.add(sample.y());
      }
      member.reptile(memberInputs, memberTargets, config.metaIterations(), config.metaInnerSteps(),
          config.metaStepSize(), config.batchSize(), new SplittableRandom(Seeds.mix(member.seed(), -1)));
    });
    requireFinite(members, "meta-learning");
    int tasks = inputs.size();
    state = new TrainingState(members, scorerOf(members), meanSum / tasks, stdSum / tasks, tasks, observations,
        ImmutableList.of(), 0, 0, 0, 0);
    log.info("meta-learned {} networks from {} source tasks ({} observations)", members.size(), tasks, observations);
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalArgumentException also if {@code newObservations} is empty
   */
  @Override
  public void update(List<Observation> newObservations) {
    checkArgument(newObservations != null && !newObservations.isEmpty(), "an update needs at least one observation");
    Examples added = examples(newObservations);
    TrainingState before = state;
    List<TrainingState.Example> replay = new ArrayList<>(before.replay);
    for (int n = 0; n < added.y.length; n++) {
      replay.add(new TrainingState.Example(added.x[n], added.y[n]));
    }
    if (replay.size() > config.replayCapacity()) {
      replay = replay.subList(replay.size() - config.replayCapacity(), replay.size());
    }
    int steps = (int) Math.min(Integer.MAX_VALUE,
        Math.max(config.minUpdateSteps(), (long) config.stepsPerObservation() * added.y.length));
    TrainingState after = train(before, copies(before.members), replay, before.count + added.y.length,
        before.sum + TrainingState.sum(added.y), before.sumSquares + TrainingState.sumSquares(added.y), steps);
    state = after;
  }

  /**
   * Trains from the starting point (the meta-learned initialisation, or the random one) on exactly
   * these target observations for {@code epochs} passes, replacing any target observations learned
   * before. The from-scratch counterpart of {@link #update}.
   *
   * @throws IllegalArgumentException if the list is empty or an observation does not fit, as for
   *     {@link #update}; the model is left unchanged
   */
  public void fit(List<Observation> observations) {
    checkArgument(observations != null && !observations.isEmpty(), "fitting needs at least one observation");
    Examples examples = examples(observations);
    List<TrainingState.Example> replay = new ArrayList<>();
    for (int n = 0; n < examples.y.length; n++) {
      replay.add(new TrainingState.Example(examples.x[n], examples.y[n]));
    }
    if (replay.size() > config.replayCapacity()) {
      replay = replay.subList(replay.size() - config.replayCapacity(), replay.size());
    }
    TrainingState before = state;
    List<Member> members = copies(before.members);
    for (Member member : members) {
      member.restart();
    }
    int batches = (replay.size() + config.batchSize() - 1) / config.batchSize();
    int steps = (int) Math.min(Integer.MAX_VALUE, (long) config.epochs() * batches);
    state = train(before, members, replay, examples.y.length, TrainingState.sum(examples.y), TrainingState.sumSquares(examples.y), steps);
  }

  private TrainingState train(TrainingState before, List<Member> members, List<TrainingState.Example> replay, long count, double sum,
      double sumSquares, int steps) {
    double mean = TrainingState.targetMean(before.priorMean, count, sum);
    double std = TrainingState.targetStd(before.priorStd, count, sum, sumSquares);
    float[][] x = new float[replay.size()][];
    float[] z = new float[replay.size()];
    for (int n = 0; n < x.length; n++) {
      x[n] = replay.get(n).x();
      z[n] = (float) ((replay.get(n).y() - mean) / std);
    }
    int training = before.trainings + 1;
    eachInParallel(members, member -> {
      // Each network sees its own bootstrap sample, so that their spread grows where data is thin.
      Bootstrap.Sample sample =
          bootstrap() ? Bootstrap.resampleByContent(x, z, replay, member.seed()) : new Bootstrap.Sample(x, z);
      member.train(sample.x(), sample.y(), steps, config.batchSize(),
          new SplittableRandom(Seeds.mix(member.seed(), training)));
    });
    requireFinite(members, "training");
    return new TrainingState(members, scorerOf(members), before.priorMean, before.priorStd, before.sourceTasks,
        before.sourceObservations, ImmutableList.copyOf(replay), count, sum, sumSquares, training);
  }

  @Override
  public Predictions predict(List<RankConfig> candidates) {
    TrainingState current = state;
    int n = candidates.size();
    int inputs = widths[0];
    float[] x = new float[Math.multiplyExact(n, inputs)];
    // Encoding a million candidates costs about as much as scoring them, so it is split too.
    int chunk = 16_384;
    IntStream range = IntStream.range(0, (n + chunk - 1) / chunk);
    (n > chunk ? range.parallel() : range).forEach(k -> {
      for (int c = k * chunk; c < Math.min(n, (k + 1) * chunk); c++) {
        encoding.encodeInto(candidates.get(c), x, c * inputs);
      }
    });
    int k = config.ensembleSize();
    float[][] z = new float[k][n];
    current.scorer.score(x, n, z);
    double mean = TrainingState.targetMean(current.priorMean, current.count, current.sum);
    double std = TrainingState.targetStd(current.priorStd, current.count, current.sum, current.sumSquares);
    double[] predicted = new double[n];
    double[] spread = k > 1 ? new double[n] : null;
    for (int c = 0; c < n; c++) {
      double s = 0;
      for (int m = 0; m < k; m++) {
        s += z[m][c];
      }
      double zMean = s / k;
      predicted[c] = mean + std * zMean;
      if (spread != null) {
        double v = 0;
        for (int m = 0; m < k; m++) {
          double d = z[m][c] - zMean;
          v += d * d;
        }
        spread[c] = std * Math.sqrt(v / k);
      }
    }
    return new Predictions(predicted, spread);
  }

  /**
   * {@inheritDoc}
   *
   * <p>The file is a zip holding {@code model.json} (format, configuration, space, normalisation,
   * provenance) and the float32 parameters, starting points and Adam state of every network; see
   * {@link #load}.
   */
  @Override
  public void save(Path path) throws IOException {
    ModelFile.write(path, this, state);
  }

  /**
   * Reads a model written by {@link #save}, with the configuration stored in the file.
   *
   * @throws IOException if the file is not such a model, is damaged, or was written for another space
   */
  public static MlpPerformanceModel load(Path path, RankSpace space) throws IOException {
    return ModelFile.read(path, space, null);
  }

  /**
   * Reads a model written by {@link #save} and checks that it was made with {@code expected}.
   *
   * @throws IOException as {@link #load(Path, RankSpace)}, and if the stored configuration differs
   */
  public static MlpPerformanceModel load(Path path, RankSpace space, MlpConfig expected) throws IOException {
    return ModelFile.read(path, space, expected);
  }

  // --- package-private access for ModelFile -------------------------------------------------------

  int[] widths() {
    return widths.clone();
  }

  /** Networks as {@link #freshMembers()} makes them, with the given seeds (a saved model's). */
  List<Member> membersWithSeeds(long[] seeds) {
    List<Member> members = new ArrayList<>();
    for (long s : seeds) {
      members.add(Member.create(widths, config.learningRate(), config.l2(), s));
    }
    return members;
  }

  List<Member> freshMembers() {
    List<Member> members = new ArrayList<>();
    for (int k = 0; k < config.ensembleSize(); k++) {
      members.add(Member.create(widths, config.learningRate(), config.l2(), Seeds.mix(seed, k)));
    }
    return members;
  }

  void restore(TrainingState restored) {
    this.state = restored;
  }

  static MlpScorer scorerOf(List<Member> members) {
    return MlpScorer.of(members.stream().map(Member::network).toList());
  }

  // --- helpers ---------------------------------------------------------------------------------------

  private static List<Member> copies(List<Member> members) {
    return members.stream().map(Member::copy).toList();
  }

  /**
   * Trains the networks side by side on the common fork-join pool. Each network's training depends only
   * on its own seed and data, so the result does not depend on the threads.
   */
  private static void eachInParallel(List<Member> members, Consumer<Member> training) {
    IntStream.range(0, members.size()).parallel().forEach(k -> training.accept(members.get(k)));
  }

  private static void requireFinite(List<Member> members, String what) {
    for (int m = 0; m < members.size(); m++) {
      if (!members.get(m).isFinite()) {
        throw new IllegalStateException(what + " diverged: network " + m
            + " has non-finite parameters; the model keeps its previous state (try a lower learning rate)");
      }
    }
  }

  /** Validated, encoded and normalised inputs with their raw scores. */
  private record Examples(float[][] x, double[] y) {}

  private Examples examples(List<Observation> observations) {
    float[][] x = new float[observations.size()][];
    double[] y = new double[observations.size()];
    for (int n = 0; n < y.length; n++) {
      Observation o = observations.get(n);
      checkArgument(o != null, "observation %s is null", n);
      checkArgument(o.succeeded() && Double.isFinite(o.score()),
          "observation %s of task %s has no finite score (%s)", o.config(), o.taskId(), o.score());
      space.validate(o.config());
      x[n] = encoding.encode(o.config());
      y[n] = o.score();
    }
    return new Examples(x, y);
  }
}
