package org.rankadaptor.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.rankadaptor.RankConfig;
import org.rankadaptor.Verdict;

class AllocationSpreadTest {

  private static final RankConfig UNIFORM = RankConfig.of(new int[] {8, 8, 8});

  private static RecoveryTable.Row row(RankConfig config, long seed, double score) {
    return new RecoveryTable.Row(config, seed, Map.of("t", score), 1.0, Optional.empty());
  }

  /** Configurations whose true scores spread by {@code effectSd}, each seed shifting all alike, plus noise. */
  private static RecoveryTable synthetic(int configs, int seeds, double effectSd, double noiseSd, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double[] seedShift = new double[seeds];
    for (int j = 0; j < seeds; j++) {
      seedShift[j] = 0.5 * gaussian(random);
    }
    List<RecoveryTable.Row> rows = new ArrayList<>();
    for (int i = 0; i < configs; i++) {
      RankConfig config = i == 0 ? UNIFORM : RankConfig.of(new int[] {2 + 2 * (i % 6), 2 + 2 * (i / 6 % 6), 2 + 2 * (i / 36)});
      double effect = effectSd * gaussian(random);
      for (int j = 0; j < seeds; j++) {
        rows.add(row(config, 100 + j, effect + seedShift[j] + noiseSd * gaussian(random)));
      }
    }
    return RecoveryTable.of(rows);
  }

  private static double gaussian(SplittableRandom random) {
    return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
  }

  @Test
  void matchesAHandComputedAnalysisOfVariance() {
    RankConfig a = RankConfig.of(new int[] {2, 2, 2});
    RankConfig b = RankConfig.of(new int[] {4, 4, 4});
    // Scores: uniform (1, 3), a (2, 6), b (0, 0). Grand mean 2; config means 2, 4, 0; seed means 1, 3.
    RecoveryTable table = RecoveryTable.of(List.of(row(UNIFORM, 1, 1), row(UNIFORM, 2, 3), row(a, 1, 2), row(a, 2, 6),
        row(b, 1, 0), row(b, 2, 0)));
    AllocationSpread spread = AllocationSpread.of(table, "t", UNIFORM, c -> 10L * c.totalRank(), 0.95);
    // SS config = 2 * (0 + 4 + 4) = 16 on 2 df; residuals (uniform 0, 0; a -1, 1; b 1, -1): SS 4 on 2 df.
    assertEquals(4.0, spread.f(), 1e-12);
    assertEquals(0.2, spread.pValue(), 1e-9); // F(2, 2) upper tail at F: 1 / (1 + F)
    assertEquals(Math.sqrt(2), spread.noiseSd(), 1e-12);
    assertEquals(2.0, spread.meansSd(), 1e-12);
    assertEquals(Math.sqrt(4 - 2.0 / 2), spread.allocationSd(), 1e-12);
    assertEquals(a, spread.configs().get(0).config());
    assertEquals(2, spread.referenceRank());
    assertEquals(2.0, spread.configs().get(0).versusReference().meanDifference(), 1e-12);
    assertEquals(1.0, spread.seedAgreement(), 1e-12); // both seeds rank a, uniform, b
  }

  @Test
  void pureSeedNoiseShowsNoAllocationEffect() {
    AllocationSpread spread =
        AllocationSpread.of(synthetic(40, 3, 0.0, 0.1, 7), "t", UNIFORM, c -> c.totalRank(), 0.95);
    assertTrue(spread.pValue() > 0.01, "p = " + spread.pValue());
    assertTrue(spread.allocationSd() < 0.05, "allocation sd " + spread.allocationSd());
    assertTrue(Math.abs(spread.seedAgreement()) < 0.3, "seed agreement " + spread.seedAgreement());
    assertEquals(0.1, spread.noiseSd(), 0.02);
  }

  @Test
  void aRealEffectStandsOutOfTheNoise() {
    AllocationSpread spread =
        AllocationSpread.of(synthetic(40, 3, 0.3, 0.05, 7), "t", UNIFORM, c -> c.totalRank(), 0.95);
    assertTrue(spread.pValue() < 1e-6, "p = " + spread.pValue());
    assertEquals(0.3, spread.allocationSd(), 0.1);
    assertTrue(spread.seedAgreement() > 0.8, "seed agreement " + spread.seedAgreement());
    assertTrue(spread.count(Verdict.BETTER) + spread.count(Verdict.WORSE) > 20);
  }

  @Test
  void separatesSizeFromAllocation() {
    // The score rises with total rank and nothing else: the configurations differ, those of equal size do not.
    SplittableRandom random = new SplittableRandom(3);
    List<RecoveryTable.Row> rows = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      RankConfig config = i == 0 ? UNIFORM : RankConfig.of(new int[] {2 + 2 * (i % 6), 2 + 2 * (i / 6 % 6), 2 + 2 * (i / 36)});
      for (int j = 0; j < 3; j++) {
        rows.add(row(config, j, 0.01 * config.totalRank() + 0.02 * gaussian(random)));
      }
    }
    AllocationSpread spread = AllocationSpread.of(RecoveryTable.of(rows), "t", UNIFORM, c -> 100L * c.totalRank(), 0.95);
    assertTrue(spread.pValue() < 1e-6, "p = " + spread.pValue());
    assertTrue(spread.atEqualSize().pValue() > 0.01, "equal-size p = " + spread.atEqualSize().pValue());
    assertEquals(0.01 / 100 * 1e6, spread.atEqualSize().slopePerMillion(), 10);
  }

  @Test
  void refusesTablesThatCannotShowASpread() {
    RecoveryTable oneSeed = RecoveryTable.of(List.of(row(UNIFORM, 1, 1), row(RankConfig.of(new int[] {2, 2, 2}), 1, 2),
        row(RankConfig.of(new int[] {4, 4, 4}), 1, 2)));
    assertThrows(IllegalArgumentException.class, () -> AllocationSpread.of(oneSeed, "t", UNIFORM, c -> 1L, 0.95));
    RecoveryTable noReference = synthetic(5, 2, 0.1, 0.1, 1);
    assertThrows(IllegalArgumentException.class,
        () -> AllocationSpread.of(noReference, "t", RankConfig.of(new int[] {12, 12, 12}), c -> 1L, 0.95));
  }
}
