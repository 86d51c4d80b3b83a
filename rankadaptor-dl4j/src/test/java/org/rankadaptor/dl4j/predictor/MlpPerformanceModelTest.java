package org.rankadaptor.dl4j.predictor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.Evaluation;
import org.rankadaptor.InvalidRankConfigException;
import org.rankadaptor.Observation;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.demo.DemoObjective;

class MlpPerformanceModelTest {
  @TempDir Path dir;

  /** The paper's setting: 32 layers, 26 searched. */
  private static final RankSpace PAPER = RankSpace.paperSetting();

  private static final RankSpace SMALL = RankSpace.builder(8).searchLayers(1, 6).build();

  static List<Observation> observe(DemoObjective objective, List<RankConfig> configs) {
    return configs.stream()
        .map(c -> Observation.succeeded(objective.taskId(), c, objective.evaluate(objective.recover(c, 1)), 0,
            Provenance.ofSeed(1)))
        .toList();
  }

  /**
   * A smooth nonlinear response to a 26-layer rank vector: with u the standardised log2-ranks and a, b
   * two seeded random directions, {@code tanh(0.8 a.u) - 0.1 (b.u)^2} (a saturating gain along one
   * direction, a penalty for straying along another).
   */
  static final class SaturatingResponse {
    private final double[] a = new double[26]; // (searched layer), unit norm
    private final double[] b = new double[26]; // (searched layer), unit norm
    private static final double[] LOG2 = {1, 2, Math.log(6) / Math.log(2), 3, Math.log(10) / Math.log(2), Math.log(12) / Math.log(2)};

    SaturatingResponse(long seed) {
      SplittableRandom random = new SplittableRandom(seed);
      for (int i = 0; i < 26; i++) {
        a[i] = 0.5 + random.nextDouble();
        b[i] = random.nextDouble() * 2 - 1;
      }
      normalise(a);
      normalise(b);
    }

    double score(RankConfig config) {
      double[] ranks = PAPER.encode(config);
      double mean = Arrays.stream(LOG2).average().orElseThrow();
      double std = Math.sqrt(Arrays.stream(LOG2).map(v -> (v - mean) * (v - mean)).average().orElseThrow());
      double sa = 0;
      double sb = 0;
      for (int i = 0; i < 26; i++) {
        double u = (Math.log(ranks[i]) / Math.log(2) - mean) / std;
        sa += a[i] * u;
        sb += b[i] * u;
      }
      return Math.tanh(0.8 * sa) - 0.1 * sb * sb;
    }

    private static void normalise(double[] v) {
      double norm = Math.sqrt(Arrays.stream(v).map(x -> x * x).sum());
      for (int i = 0; i < v.length; i++) {
        v[i] /= norm;
      }
    }
  }

  @Test
  void learns200ObservationsOfANonlinear26LayerResponseToHeldOutR2Above09() {
    SaturatingResponse response = new SaturatingResponse(5);
    List<Observation> observations = PAPER.sample(200, 1, true).stream()
        .map(c -> Observation.succeeded("t", c, Evaluation.of(response.score(c)), 0, Provenance.ofSeed(1)))
        .toList();
    MlpPerformanceModel model =
        new MlpPerformanceModel(PAPER, MlpConfig.paper().withEnsembleSize(1).withUpdateSteps(5, 32));
    model.update(observations);
    List<RankConfig> heldOut = PAPER.sample(500, 2, true);
    double[] truth = heldOut.stream().mapToDouble(response::score).toArray();
    double r2 = rSquared(model.predict(heldOut).mean(), truth);
    assertThat(r2).as("held-out R^2").isGreaterThanOrEqualTo(0.9);
    assertThat(model.observationCount()).isEqualTo(200);
  }

  @Test
  void metaLearnedStartNeedsFewerObservationsOfARelatedTaskThanARandomStart() {
    MlpConfig config = MlpConfig.paper().withEnsembleSize(1).withMeta(100, 8, 0.5).withUpdateSteps(8, 32);
    int[] sizes = {4, 8, 16, 32};
    for (long family : new long[] {21, 22, 23}) {
      Map<String, List<Observation>> sources = new TreeMap<>();
      for (int t = 1; t <= 3; t++) {
        DemoObjective source = DemoObjective.task(SMALL, family, t, 0.2, 0.005);
        sources.put(source.taskId(), observe(source, SMALL.sample(60, 100 + t, true)));
      }
      DemoObjective target = DemoObjective.task(SMALL, family, 0, 0.2, 0.005);
      List<Observation> seen = observe(target, SMALL.sample(sizes[sizes.length - 1], family, true));
      List<RankConfig> heldOut = SMALL.sample(200, family + 1000, true);
      double[] truth = heldOut.stream().mapToDouble(target::trueScore).toArray();

      MlpPerformanceModel meta = new MlpPerformanceModel(SMALL, config);
      meta.metaLearn(sources);
      assertThat(meta.sourceTaskCount()).isEqualTo(3);
      double[] metaError = errorCurve(meta, seen, sizes, heldOut, truth);
      double[] randomError = errorCurve(new MlpPerformanceModel(SMALL, config), seen, sizes, heldOut, truth);
      // The bar: what the random start reaches with all the observations.
      double bar = randomError[sizes.length - 1];
      assertThat(firstReaching(metaError, bar, sizes))
          .as("family %s: observations to reach RMSE %s; meta-learned %s, random %s", family, bar,
              Arrays.toString(metaError), Arrays.toString(randomError))
          .isLessThan(firstReaching(randomError, bar, sizes));
    }
  }

  /** Held-out RMSE after online updates with the first sizes[k] observations. */
  private static double[] errorCurve(MlpPerformanceModel model, List<Observation> seen, int[] sizes,
      List<RankConfig> heldOut, double[] truth) {
    double[] error = new double[sizes.length];
    int fed = 0;
    for (int k = 0; k < sizes.length; k++) {
      model.update(seen.subList(fed, sizes[k]));
      fed = sizes[k];
      double[] predicted = model.predict(heldOut).mean();
      double sum = 0;
      for (int i = 0; i < truth.length; i++) {
        sum += (predicted[i] - truth[i]) * (predicted[i] - truth[i]);
      }
      error[k] = Math.sqrt(sum / truth.length);
    }
    return error;
  }

  private static int firstReaching(double[] error, double bar, int[] sizes) {
    for (int k = 0; k < error.length; k++) {
      if (error[k] <= bar) {
        return sizes[k];
      }
    }
    return Integer.MAX_VALUE;
  }

  @Test
  void updateMovesThePredictionTowardTheNewObservation() {
    DemoObjective objective = DemoObjective.task(SMALL, 4, 0, 0, 0.002);
    MlpPerformanceModel model = new MlpPerformanceModel(SMALL, MlpConfig.paper().withEnsembleSize(1));
    model.update(observe(objective, SMALL.sample(20, 5, true)));
    RankConfig probe = SMALL.uniform(10);
    double before = model.predict(List.of(probe)).mean()[0];
    double target = before + 0.3;
    model.update(List.of(Observation.succeeded("demo-0", probe, Evaluation.of(target), 0, Provenance.ofSeed(1))));
    double after = model.predict(List.of(probe)).mean()[0];
    assertThat(Math.abs(target - after)).as("distance to the new score (before %s, after %s)", before, after)
        .isLessThan(0.75 * Math.abs(target - before));
  }

  @Test
  void ensembleIsLessSureFarFromItsData() {
    DemoObjective objective = DemoObjective.task(SMALL, 4, 0, 0, 0.002);
    MlpPerformanceModel model = new MlpPerformanceModel(SMALL, MlpConfig.paper().withUpdateSteps(4, 32));
    assertThat(model.hasUncertainty()).isTrue();
    // Data only with ranks 2..6: the corner of all-12 ranks is far away.
    RankSpace low = RankSpace.builder(8).candidates(2, 4, 6).searchLayers(1, 6).build();
    List<RankConfig> seen = low.sample(60, 3, true);
    model.update(observe(objective, seen));
    double atData = Arrays.stream(model.predict(seen).std()).average().orElseThrow();
    double far = model.predict(List.of(SMALL.uniform(12))).std()[0];
    // Bootstrap samples leave each network without about a third of the data, which widens the spread at
    // the data too; far from it the networks still disagree clearly more.
    assertThat(far).as("std far %s vs at the data %s", far, atData).isGreaterThan(1.5 * atData);
  }

  @Test
  void sameSeedAndCallsGiveIdenticalPredictions() {
    DemoObjective objective = DemoObjective.task(SMALL, 4, 0, 0, 0.002);
    MlpConfig config = MlpConfig.paper().withEnsembleSize(2).withSeed(7).withMeta(20, 4, 0.5);
    List<RankConfig> probes = SMALL.sample(300, 9, false);
    double[][] runs = new double[2][];
    double[][] spreads = new double[2][];
    for (int run = 0; run < 2; run++) {
      MlpPerformanceModel model = new MlpPerformanceModel(SMALL, config);
      model.metaLearn(Map.of("a", observe(DemoObjective.task(SMALL, 4, 1, 0.3, 0.01), SMALL.sample(30, 7, true))));
      model.update(observe(objective, SMALL.sample(6, 8, true)));
      model.update(observe(objective, SMALL.sample(1, 10, true)));
      runs[run] = model.predict(probes).mean();
      spreads[run] = model.predict(probes).std();
    }
    assertThat(runs[1]).containsExactly(runs[0]);
    assertThat(spreads[1]).containsExactly(spreads[0]);
    MlpPerformanceModel otherSeed = new MlpPerformanceModel(SMALL, config.withSeed(8));
    assertThat(otherSeed.predict(probes).mean()).isNotEqualTo(new MlpPerformanceModel(SMALL, config).predict(probes).mean());
  }

  @Test
  void saveAndLoadPredictIdenticallyAndRejectAnotherSpaceOrConfiguration() throws IOException {
    MlpConfig config = MlpConfig.paper().withEnsembleSize(2).withMeta(20, 4, 0.5);
    MlpPerformanceModel model = new MlpPerformanceModel(SMALL, config);
    model.metaLearn(Map.of("a", observe(DemoObjective.task(SMALL, 4, 1, 0.3, 0.01), SMALL.sample(20, 7, true))));
    DemoObjective objective = DemoObjective.task(SMALL, 4, 0, 0.3, 0.002);
    model.update(observe(objective, SMALL.sample(12, 8, true)));
    Path file = dir.resolve("model.zip");
    model.save(file);

    MlpPerformanceModel loaded = MlpPerformanceModel.load(file, SMALL, config);
    List<RankConfig> probes = SMALL.sample(100, 9, false);
    assertThat(loaded.predict(probes).mean()).containsExactly(model.predict(probes).mean());
    assertThat(loaded.predict(probes).std()).containsExactly(model.predict(probes).std());
    assertThat(loaded.observationCount()).isEqualTo(12);
    assertThat(loaded.sourceTaskCount()).isEqualTo(1);
    // The optimiser state and replay came along: the next update is the same as the original's.
    List<Observation> next = observe(objective, SMALL.sample(2, 10, true));
    model.update(next);
    loaded.update(next);
    assertThat(loaded.predict(probes).mean()).containsExactly(model.predict(probes).mean());

    RankSpace other = RankSpace.builder(8).searchLayers(2, 6).build();
    assertThatThrownBy(() -> MlpPerformanceModel.load(file, other))
        .isInstanceOf(IOException.class).hasMessageContaining("written for the space");
    assertThatThrownBy(() -> MlpPerformanceModel.load(file, SMALL, config.withHidden(32, 64, 32)))
        .isInstanceOf(IOException.class).hasMessageContaining("written for the configuration");
    // A damaged copy: one network's parameters cut short.
    Path damaged = dir.resolve("damaged.zip");
    try (ZipFile source = new ZipFile(file.toFile());
        ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(damaged))) {
      for (ZipEntry entry : java.util.Collections.list(source.entries())) {
        byte[] bytes = source.getInputStream(entry).readAllBytes();
        out.putNextEntry(new ZipEntry(entry.getName()));
        out.write(entry.getName().equals("member-1.params.f32") ? Arrays.copyOf(bytes, bytes.length - 4) : bytes);
        out.closeEntry();
      }
    }
    assertThatThrownBy(() -> MlpPerformanceModel.load(damaged, SMALL)).isInstanceOf(IOException.class)
        .hasMessageContaining("member-1.params.f32");
    Files.writeString(file, "{\"format\": \"something-else\"}");
    assertThatThrownBy(() -> MlpPerformanceModel.load(file, SMALL)).isInstanceOf(IOException.class)
        .hasMessageContaining("not a saved MLP performance model");
  }

  @Test
  void aFileWithOneFlippedByteIsRefusedNotLoaded() throws IOException {
    MlpConfig config = MlpConfig.paper().withEnsembleSize(2).withMeta(5, 2, 0.5);
    MlpPerformanceModel model = new MlpPerformanceModel(SMALL, config);
    model.update(observe(DemoObjective.task(SMALL, 4, 0, 0.3, 0.002), SMALL.sample(6, 8, true)));
    Path file = dir.resolve("model.zip");
    model.save(file);
    byte[] bytes = Files.readAllBytes(file);
    int refused = 0;
    // Every single-byte change in the entries' data is caught (by the inflater, the CRC or the checksum).
    for (int at = 64; at < bytes.length * 3 / 4; at += Math.max(1, bytes.length / 40)) {
      byte[] copy = bytes.clone();
      copy[at] ^= 0x5A;
      Path damaged = dir.resolve("flipped-" + at + ".zip");
      Files.write(damaged, copy);
      try {
        MlpPerformanceModel loaded = MlpPerformanceModel.load(damaged, SMALL, config);
        // Bytes of zip bookkeeping that change nothing the model reads may load; the model must be intact.
        assertThat(loaded.predict(SMALL.sample(10, 1, false)).mean())
            .as("flipped byte " + at).containsExactly(model.predict(SMALL.sample(10, 1, false)).mean());
      } catch (IOException e) {
        refused++;
      }
    }
    assertThat(refused).isPositive();
  }

  @Test
  void badInputIsRejectedAndLeavesTheModelUnchanged() {
    DemoObjective objective = DemoObjective.task(SMALL, 4, 0, 0, 0.002);
    MlpPerformanceModel model = new MlpPerformanceModel(SMALL, MlpConfig.paper().withEnsembleSize(2));
    model.update(observe(objective, SMALL.sample(5, 5, true)));
    List<RankConfig> probes = SMALL.sample(20, 6, false);
    double[] before = model.predict(probes).mean();

    Observation failed = Observation.failed("demo-0", SMALL.uniform(6), "NaN loss", 0, Provenance.ofSeed(1));
    Observation good = observe(objective, List.of(SMALL.uniform(4))).get(0);
    assertThatThrownBy(() -> model.update(List.of(good, failed)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no finite score");
    Observation tooShort = Observation.succeeded("demo-0", RankConfig.of(8, 8), Evaluation.of(1), 0, Provenance.ofSeed(1));
    assertThatThrownBy(() -> model.update(List.of(good, tooShort))).isInstanceOf(InvalidRankConfigException.class)
        .hasMessageContaining("has 2 layers");
    assertThatThrownBy(() -> model.update(List.of())).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one observation");
    assertThatThrownBy(() -> model.fit(List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> model.metaLearn(Map.of())).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one source task");
    Map<String, List<Observation>> withEmptyTask = new LinkedHashMap<>();
    withEmptyTask.put("a", List.of(good));
    withEmptyTask.put("b", List.of());
    assertThatThrownBy(() -> model.metaLearn(withEmptyTask)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("source task b has no observations");
    assertThatThrownBy(() -> model.predict(List.of(RankConfig.of(8, 8)))).isInstanceOf(InvalidRankConfigException.class);

    // Divergent training (an absurd learning rate) is caught and rolled back.
    MlpPerformanceModel unstable =
        new MlpPerformanceModel(SMALL, MlpConfig.paper().withEnsembleSize(1).withLearningRate(1e30));
    double[] untrained = unstable.predict(probes).mean();
    assertThatThrownBy(() -> unstable.update(observe(objective, SMALL.sample(3, 5, true))))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("diverged");
    assertThat(unstable.predict(probes).mean()).containsExactly(untrained);
    assertThat(unstable.observationCount()).isZero();

    assertThat(model.observationCount()).isEqualTo(5);
    assertThat(model.predict(probes).mean()).containsExactly(before);
  }

  static double rSquared(double[] predicted, double[] truth) {
    double mean = Arrays.stream(truth).average().orElseThrow();
    double residual = 0;
    double total = 0;
    for (int i = 0; i < truth.length; i++) {
      residual += (truth[i] - predicted[i]) * (truth[i] - predicted[i]);
      total += (truth[i] - mean) * (truth[i] - mean);
    }
    return 1 - residual / total;
  }
}
