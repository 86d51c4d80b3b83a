package org.rankadaptor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class PairedComparisonTest {
  private static final RankConfig A = RankConfig.of(8, 12, 4, 8);
  private static final RankConfig B = RankConfig.of(8, 8, 8, 8);

  @Test
  void theIntervalIsStudentsTOnThePairedDifferences() {
    // Differences 1, 2, 3: mean 2, sample sd 1, standard error 1 / sqrt(3); t(2, 0.975) = 4.3027.
    PairedComparison c = PairedComparison.of(A, B, List.of(1L, 2L, 3L), new double[] {1, 2, 3}, 0.95);
    assertThat(c.meanDifference()).isEqualTo(2.0);
    assertThat(c.standardError()).isCloseTo(1 / Math.sqrt(3), within(1e-12));
    assertThat(c.lower()).isCloseTo(2 - 4.302652729911275 / Math.sqrt(3), within(1e-9));
    assertThat(c.upper()).isCloseTo(2 + 4.302652729911275 / Math.sqrt(3), within(1e-9));
    assertThat(c.verdict()).isEqualTo(Verdict.NO_DETECTABLE_DIFFERENCE);
    assertThat(c.describe()).isEqualTo("+2.0000 [-0.4841, +4.4841] (95.0 % CI, 3 seeds): no detectable difference");
  }

  @Test
  void consistentDifferencesGiveAVerdictEitherWay() {
    assertThat(PairedComparison.of(A, B, List.of(1L, 2L, 3L), new double[] {1, 1.1, 0.9}, 0.95).verdict())
        .isEqualTo(Verdict.BETTER);
    assertThat(PairedComparison.of(A, B, List.of(1L, 2L, 3L), new double[] {-1, -1.1, -0.9}, 0.95).verdict())
        .isEqualTo(Verdict.WORSE);
  }

  @Test
  void aHigherConfidenceWidensTheInterval() {
    double[] d = {0.02, 0.035, 0.01, 0.03};
    List<Long> seeds = List.of(1L, 2L, 3L, 4L);
    PairedComparison at95 = PairedComparison.of(A, B, seeds, d, 0.95);
    PairedComparison at99 = PairedComparison.of(A, B, seeds, d, 0.99);
    assertThat(at99.upper() - at99.lower()).isGreaterThan(at95.upper() - at95.lower());
  }

  @Test
  void oneSeedCannotBeCompared() {
    assertThatThrownBy(() -> PairedComparison.of(A, B, List.of(1L), new double[] {1}, 0.95))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least two seeds");
  }
}
