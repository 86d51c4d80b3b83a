package org.rankadaptor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class StoppingRuleTest {
  private static final RankConfig C = RankConfig.of(8, 4, 8);

  private static IterationRecord last(double predicted, double measured) {
    Observation o = new Observation("t", C, Observation.Status.SUCCEEDED, measured, Map.of(), 1,
        Provenance.ofSeed(1), "", Instant.EPOCH);
    return new IterationRecord(3, 3, SearchPhase.ITERATION, C, 1, predicted, Double.NaN, o, false, 0);
  }

  /** Candidates with means 0.10, 0.11 and standard deviations 0.01, 0.005; the incumbent predicted at 0.10. */
  private static StoppingRule.Context context(OptionalDouble noise, Optional<IterationRecord> last) {
    Predictions p = new Predictions(new double[] {0.10, 0.11}, new double[] {0.01, 0.005});
    return new StoppingRule.Context(last, noise, 0.10, p);
  }

  @Test
  void noExpectedImprovementComparesTheOptimisticGainWithTheNoise() {
    StoppingRule rule = StoppingRule.noExpectedImprovement(1.0, 2);
    // Optimistic gain: max(0.10 + 0.01, 0.11 + 0.005) - 0.10 = 0.015.
    assertThat(rule.holds(context(OptionalDouble.of(0.02), Optional.empty()))).isPresent();
    assertThat(rule.holds(context(OptionalDouble.of(0.01), Optional.empty()))).isEmpty();
    assertThat(rule.holds(context(OptionalDouble.empty(), Optional.empty()))).as("no noise measured yet").isEmpty();
    assertThat(StoppingRule.noExpectedImprovement(0.0, 1).holds(context(OptionalDouble.of(0.0101), Optional.empty())))
        .as("optimism 0 compares means: gain 0.01").isPresent();
    assertThat(rule.needsNoise()).isTrue();
    assertThat(rule.patience()).isEqualTo(2);
  }

  @Test
  void thePapersRuleLooksAtTheLastGapInScoreUnitsOrInNoiseUnits() {
    Optional<IterationRecord> close = Optional.of(last(-2.000, -2.005));
    assertThat(StoppingRule.paper(0.01, 1).holds(context(OptionalDouble.empty(), close))).isPresent();
    assertThat(StoppingRule.paper(0.001, 1).holds(context(OptionalDouble.empty(), close))).isEmpty();
    assertThat(StoppingRule.paper(0.01, 1).holds(context(OptionalDouble.empty(), Optional.empty()))).isEmpty();
    StoppingRule relative = StoppingRule.paperRelativeToNoise(0.5, 1);
    assertThat(relative.holds(context(OptionalDouble.empty(), close))).as("needs the noise").isEmpty();
    assertThat(relative.holds(context(OptionalDouble.of(0.02), close))).isPresent();
    assertThat(relative.holds(context(OptionalDouble.of(0.005), close))).isEmpty();
    assertThat(StoppingRule.never().holds(context(OptionalDouble.of(1), close))).isEmpty();
  }

  @Test
  void badSettingsAreRefused() {
    assertThatThrownBy(() -> StoppingRule.paper(-1, 1)).hasMessageContaining("threshold");
    assertThatThrownBy(() -> StoppingRule.noExpectedImprovement(1, 0)).hasMessageContaining("patience");
    assertThatThrownBy(() -> StoppingRule.paperRelativeToNoise(Double.NaN, 1)).hasMessageContaining("multiple");
  }
}
