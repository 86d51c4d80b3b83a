package org.rankadaptor.dl4j.recover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.rankadaptor.dl4j.predictor.MlpConfig;

/** Settings changed by name from a preset: everything else kept, a bad value named. */
class RecoverySettingsBuilderTest {

  @Test
  void aPresetChangedByNameKeepsEverythingElse() {
    RecoverySettings paper = RecoverySettings.paper();
    assertThat(paper.toBuilder().build()).isEqualTo(paper);
    RecoverySettings changed = paper.toBuilder().warmupSteps(10).cutoffLength(128).build();
    assertThat(changed.warmupSteps()).isEqualTo(10);
    assertThat(changed.cutoffLength()).isEqualTo(128);
    assertThat(changed.withLearningRate(paper.learningRate()).toBuilder().warmupSteps(paper.warmupSteps())
        .cutoffLength(paper.cutoffLength()).build()).isEqualTo(paper);
    assertThatThrownBy(() -> paper.toBuilder().microBatchSize(3).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batchSize");
  }

  @Test
  void thePredictorsSettingsToo() {
    MlpConfig paper = MlpConfig.paper();
    assertThat(paper.toBuilder().build()).isEqualTo(paper);
    MlpConfig changed = paper.toBuilder().replayCapacity(64).stepsPerObservation(4).build();
    assertThat(changed.replayCapacity()).isEqualTo(64);
    assertThat(changed.stepsPerObservation()).isEqualTo(4);
    assertThat(changed.metaIterations()).isEqualTo(paper.metaIterations());
    assertThatThrownBy(() -> paper.toBuilder().replayCapacity(0).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("replay capacity");
  }
}
