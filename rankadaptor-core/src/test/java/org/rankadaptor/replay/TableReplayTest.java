package org.rankadaptor.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rankadaptor.ParameterBudget;
import org.rankadaptor.RankAdaptor;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.predictor.BayesianRidgeModel;

/**
 * Search strategies replayed on the committed table of real recoveries ({@code docs/recovery-table}:
 * every rank vector of stories260K with layers 1..3 width-pruned by 50 %, five recovery seeds each),
 * over 30 search seeds at a budget of 12 fine-tunes, judged by the table's seed-averaged validation
 * score. The model is the core's Bayesian ridge model without any source task; the MLP's replay is in
 * the dl4j module's tests.
 */
class TableReplayTest {
  static final Path TABLE = Path.of("..", "docs", "recovery-table");
  private static final int SEARCHES = 30;
  private static final int BUDGET = 12;

  private static TableReplay replay;
  private static List<TableReplay.Outcome> noiseAware;
  private static List<TableReplay.Outcome> paper;
  private static List<TableReplay.Outcome> random;

  /** The table's space within uniform rank 8's trainable parameters, from its provenance. */
  static RankSpace space(JsonNode provenance) {
    JsonNode node = provenance.get("parametersPerRank");
    long[] perRank = new long[node.size()];
    for (int i = 0; i < perRank.length; i++) {
      perRank[i] = node.get(i).asLong();
    }
    long uniform = new ParameterBudget(perRank, Long.MAX_VALUE)
        .trainableParameters(RankConfig.uniform(perRank.length, 8));
    return RankSpace.builder(perRank.length).searchLayers(1, 3).budget(new ParameterBudget(perRank, uniform)).build();
  }

  @BeforeAll
  static void replayEveryStrategy() throws IOException {
    RecoveryTable table = RecoveryTable.read(TABLE.resolve("table.jsonl"));
    JsonNode provenance = new ObjectMapper().readTree(TABLE.resolve("provenance.json").toFile());
    replay = new TableReplay(table, space(provenance), provenance.get("validationTask").asText());
    noiseAware = new ArrayList<>();
    paper = new ArrayList<>();
    random = new ArrayList<>();
    for (int i = 0; i < SEARCHES; i++) {
      noiseAware.add(replay.judge(RankAdaptor.search(replay.spec(new BayesianRidgeModel(replay.space()), i)
          .maxEvaluations(BUDGET).metaLearning(false).build())));
      paper.add(replay.judge(RankAdaptor.search(replay.spec(new BayesianRidgeModel(replay.space()), i)
          .maxEvaluations(BUDGET).metaLearning(false).paperProtocol().build())));
      random.add(replay.judge(RankAdaptor.randomSearch(replay.spec(null, i).maxEvaluations(BUDGET).build())));
    }
  }

  private static double meanRegret(List<TableReplay.Outcome> outcomes) {
    return outcomes.stream().mapToDouble(TableReplay.Outcome::regret).average().orElseThrow();
  }

  @Test
  void theTableHoldsEveryConfigurationWithFiveSeeds() {
    assertThat(replay.seeds()).hasSize(5);
    assertThat(replay.ranked()).hasSize(160);
  }

  @Test
  void everySearchStaysWithinItsBudget() {
    assertThat(noiseAware).allMatch(o -> o.fineTunes() <= BUDGET);
    assertThat(random).allMatch(o -> o.fineTunes() == BUDGET);
  }

  @Test
  void withoutAnySourceTaskTheDefaultSearchHasAtMostHalfRandomSearchsRegret() {
    assertThat(meanRegret(noiseAware)).as("mean regret: noise-aware %s, random %s", meanRegret(noiseAware),
        meanRegret(random)).isLessThanOrEqualTo(0.5 * meanRegret(random));
  }

  @Test
  void thePapersProtocolStopsEarlyAndReturnsWorseConfigurations() {
    assertThat(paper).allMatch(o -> o.fineTunes() < BUDGET);
    assertThat(meanRegret(paper)).as("mean regret: paper's protocol %s, default %s", meanRegret(paper),
        meanRegret(noiseAware)).isGreaterThan(meanRegret(noiseAware));
  }

  @Test
  void falseVerdictsOfBetterThanUniformAreRare() {
    long falseBetter = noiseAware.stream().filter(TableReplay.Outcome::falseBetter).count();
    assertThat(falseBetter).as("false 'better' verdicts of %s", SEARCHES).isLessThanOrEqualTo(SEARCHES / 20);
    assertThat(noiseAware).allMatch(o -> o.verdict().isPresent() || o.returned().equals(replay.space().uniform(8)));
  }

  @Test
  void eachSearchStartsFromAnotherSeedAndReplicatesWithTheRest() {
    assertThat(replay.seedsFor(0)).containsExactly(42L, 43L, 44L, 45L, 46L);
    assertThat(replay.seedsFor(3)).containsExactly(45L, 46L, 42L, 43L, 44L);
    org.rankadaptor.SearchSpec<RecoveryTable.Row> spec = replay.spec(null, 6).build();
    assertThat(spec.recoverySeed()).isEqualTo(43L);
    assertThat(spec.replicateSeeds()).containsExactly(44L, 45L, 46L, 42L);
  }

  @Test
  void judgingUsesTheSeedAveragedTable() {
    RankConfig uniform = replay.space().uniform(8);
    TableReplay.Outcome o = replay.judge(uniform, Optional.empty(), 1);
    assertThat(o.truth()).isEqualTo(replay.uniformTruth());
    assertThat(o.regret()).isEqualTo(replay.best() - replay.uniformTruth());
    assertThat(replay.judge(replay.ranked().get(0), Optional.empty(), 1).rank()).isZero();
  }
}
