package org.rankadaptor.predictor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.Evaluation;
import org.rankadaptor.demo.DemoObjective;
import org.rankadaptor.InvalidRankConfigException;
import org.rankadaptor.Observation;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;

class BayesianRidgeModelTest {
  @TempDir Path dir;

  private static final RankSpace SPACE = RankSpace.builder(8).searchLayers(1, 6).build();

  private static List<Observation> observe(DemoObjective objective, List<RankConfig> configs) {
    return configs.stream()
        .map(c -> Observation.succeeded(objective.taskId(), c, objective.evaluate(objective.recover(c, 1)), 0, Provenance.ofSeed(1)))
        .toList();
  }

  @Test
  void fitsTheDemoObjectiveOnHeldOutConfigurations() {
    DemoObjective objective = DemoObjective.task(SPACE, 4, 0, 0, 0.002);
    BayesianRidgeModel model = new BayesianRidgeModel(SPACE);
    model.update(observe(objective, SPACE.sample(150, 1, true)));
    List<RankConfig> heldOut = SPACE.sample(200, 2, true);
    double[] predicted = model.predict(heldOut).mean();
    double[] truth = heldOut.stream().mapToDouble(objective::trueScore).toArray();
    assertThat(rSquared(predicted, truth)).isGreaterThan(0.9);
  }

  @Test
  void aTargetOnAnotherScaleKeepsTheMetaLearnedShapeAfterItsFirstObservations() {
    // Sources around 0 with unit spread; the target at a level of -300 with a spread of 0.01.
    java.util.Map<String, List<Observation>> sources = new java.util.TreeMap<>();
    for (int t = 1; t <= 3; t++) {
      DemoObjective source = DemoObjective.task(SPACE, 8, t, 0.1, 0.002);
      sources.put(source.taskId(), observe(source, SPACE.sample(40, 10 + t, true)));
    }
    BayesianRidgeModel model = new BayesianRidgeModel(SPACE);
    model.metaLearn(sources);
    List<RankConfig> probes = SPACE.sample(300, 3, true);
    double[] prior = model.predict(probes).mean();
    RankConfig first = SPACE.uniform(8);
    model.update(List.of(Observation.succeeded("target", first, Evaluation.of(-300.0), 0, Provenance.ofSeed(1))));
    double[] afterOne = model.predict(probes).mean();
    // The level comes from the target at once; one observation cannot tell the shape, so it is the prior's.
    assertThat(model.predict(List.of(first)).mean()[0]).isCloseTo(-300.0, org.assertj.core.data.Offset.offset(5.0));
    assertThat(spearman(afterOne, prior)).isGreaterThan(0.999);
    RankConfig second = SPACE.uniform(4);
    model.update(List.of(Observation.succeeded("target", second, Evaluation.of(-300.01), 0, Provenance.ofSeed(1))));
    double[] afterTwo = model.predict(probes).mean();
    // With two observations the target's own scale (0.005) sets the units: predictions stay near -300.
    assertThat(java.util.Arrays.stream(afterTwo).max().orElseThrow()).isLessThan(-299.9);
    assertThat(java.util.Arrays.stream(afterTwo).min().orElseThrow()).isGreaterThan(-300.1);
    assertThat(spearman(afterTwo, prior)).isGreaterThan(0.8);
  }

  private static double spearman(double[] a, double[] b) {
    return pearson(ranks(a), ranks(b));
  }

  private static double[] ranks(double[] v) {
    Integer[] order = new Integer[v.length];
    for (int i = 0; i < v.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, java.util.Comparator.comparingDouble(i -> v[i]));
    double[] r = new double[v.length];
    for (int k = 0; k < v.length; k++) {
      r[order[k]] = k;
    }
    return r;
  }

  private static double pearson(double[] a, double[] b) {
    double ma = java.util.Arrays.stream(a).average().orElseThrow();
    double mb = java.util.Arrays.stream(b).average().orElseThrow();
    double sab = 0;
    double saa = 0;
    double sbb = 0;
    for (int i = 0; i < a.length; i++) {
      sab += (a[i] - ma) * (b[i] - mb);
      saa += (a[i] - ma) * (a[i] - ma);
      sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / Math.sqrt(saa * sbb);
  }

  @Test
  void isLessSureFarFromItsData() {
    DemoObjective objective = DemoObjective.task(SPACE, 4, 0, 0, 0.002);
    BayesianRidgeModel model = new BayesianRidgeModel(SPACE);
    // Data only with ranks 2..6: the corner of all-12 ranks is far away.
    RankSpace low = RankSpace.builder(8).candidates(new int[] {2, 4, 6}).searchLayers(1, 6).build();
    List<RankConfig> seen = low.sample(40, 3, true);
    model.update(observe(objective, seen));
    double atData = model.predict(List.of(seen.get(0))).std()[0];
    double far = model.predict(List.of(SPACE.uniform(12))).std()[0];
    assertThat(far).isGreaterThan(2 * atData);
  }

  @Test
  void updateMovesPredictionTowardTheNewObservation() {
    DemoObjective objective = DemoObjective.task(SPACE, 4, 0, 0, 0.002);
    BayesianRidgeModel model = new BayesianRidgeModel(SPACE);
    model.update(observe(objective, SPACE.sample(10, 5, true)));
    RankConfig probe = SPACE.uniform(10);
    double before = model.predict(List.of(probe)).mean()[0];
    double target = before + 0.5;
    model.update(List.of(Observation.succeeded("demo-0", probe, Evaluation.of(target), 0, Provenance.ofSeed(1))));
    double after = model.predict(List.of(probe)).mean()[0];
    assertThat(Math.abs(target - after)).isLessThan(Math.abs(target - before));
  }

  @Test
  void saveAndLoadPredictIdentically() throws IOException {
    DemoObjective objective = DemoObjective.task(SPACE, 4, 0, 0, 0.002);
    BayesianRidgeModel model = new BayesianRidgeModel(SPACE);
    model.metaLearn(Map.of("a", observe(DemoObjective.task(SPACE, 4, 1, 0.3, 0.01), SPACE.sample(20, 7, true))));
    model.update(observe(objective, SPACE.sample(12, 8, true)));
    Path file = dir.resolve("model.json");
    model.save(file);
    BayesianRidgeModel loaded = BayesianRidgeModel.load(file, SPACE);
    List<RankConfig> probes = SPACE.sample(50, 9, false);
    assertThat(loaded.predict(probes).mean()).containsExactly(model.predict(probes).mean());
    assertThat(loaded.predict(probes).std()).containsExactly(model.predict(probes).std());

    RankSpace other = RankSpace.builder(8).searchLayers(2, 6).build();
    assertThatThrownBy(() -> BayesianRidgeModel.load(file, other))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("written for the space");
    Files.writeString(file, "{\"format\": \"something-else\"}");
    assertThatThrownBy(() -> BayesianRidgeModel.load(file, SPACE)).isInstanceOf(IOException.class);
  }

  @Test
  void badObservationsAreRejectedAndLeaveTheModelUnchanged() {
    BayesianRidgeModel model = new BayesianRidgeModel(SPACE);
    DemoObjective objective = DemoObjective.task(SPACE, 4, 0, 0, 0.002);
    model.update(observe(objective, SPACE.sample(5, 5, true)));
    RankConfig probe = SPACE.uniform(6);
    double before = model.predict(List.of(probe)).mean()[0];
    Observation failed = Observation.failed("demo-0", probe, "NaN loss", 0, Provenance.ofSeed(1));
    Observation good = observe(objective, List.of(SPACE.uniform(4))).get(0);
    assertThatThrownBy(() -> model.update(List.of(good, failed)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no finite score");
    Observation tooShort = Observation.succeeded("demo-0", RankConfig.of(8, 8), Evaluation.of(1), 0, Provenance.ofSeed(1));
    assertThatThrownBy(() -> model.update(List.of(tooShort))).isInstanceOf(InvalidRankConfigException.class);
    assertThatThrownBy(() -> model.metaLearn(Map.of())).isInstanceOf(IllegalArgumentException.class);
    assertThat(model.observationCount()).isEqualTo(5);
    assertThat(model.predict(List.of(probe)).mean()[0]).isEqualTo(before);
  }

  private static double rSquared(double[] predicted, double[] truth) {
    double mean = 0;
    for (double t : truth) {
      mean += t / truth.length;
    }
    double residual = 0;
    double total = 0;
    for (int i = 0; i < truth.length; i++) {
      residual += (truth[i] - predicted[i]) * (truth[i] - predicted[i]);
      total += (truth[i] - mean) * (truth[i] - mean);
    }
    return 1 - residual / total;
  }
}
