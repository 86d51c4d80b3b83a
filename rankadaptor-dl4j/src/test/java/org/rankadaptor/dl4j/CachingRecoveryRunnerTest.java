package org.rankadaptor.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;

class CachingRecoveryRunnerTest {

  /** Records every recovery and release; the models carry only their configuration and seed. */
  private static final class Recording implements RecoveryRunner<RecoveredModel> {
    final List<String> recovered = new ArrayList<>();
    final List<RankConfig> released = new ArrayList<>();

    @Override
    public RecoveredModel recover(RankConfig config, long seed) {
      recovered.add(config + "@" + seed);
      return new RecoveredModel(null, null, config, null, Provenance.ofSeed(seed));
    }

    @Override
    public void release(RecoveredModel model) {
      released.add(model.config());
    }
  }

  @Test
  void theSameConfigurationAndSeedInARowRecoverOnce() {
    Recording delegate = new Recording();
    CachingRecoveryRunner runner = new CachingRecoveryRunner(delegate);
    RankConfig a = RankConfig.of(2, 4);
    RankConfig b = RankConfig.of(4, 2);
    RecoveredModel first = runner.recover(a, 1);
    assertThat(runner.recover(a, 1)).isSameAs(first);
    runner.release(first);
    runner.release(first);
    assertThat(delegate.released).isEmpty();
    runner.release(runner.recover(a, 2));
    runner.recover(b, 2);
    assertThat(runner.isCached(b, 2)).isTrue();
    assertThat(delegate.recovered).containsExactly("[2,4]@1", "[2,4]@2", "[4,2]@2");
    // A model replaced in the cache is released; one handed over is not, and is recovered again if asked.
    assertThat(delegate.released).containsExactly(a, a);
    runner.handOver();
    runner.recover(b, 2);
    assertThat(delegate.released).containsExactly(a, a);
    assertThat(runner.recoveries()).isEqualTo(4);
  }

  @Test
  void aModelStillInUseIsReleasedByItsLastUserNotWhenANewerOneReplacesIt() {
    Recording delegate = new Recording();
    CachingRecoveryRunner runner = new CachingRecoveryRunner(delegate);
    RankConfig a = RankConfig.of(2, 4);
    RankConfig b = RankConfig.of(4, 2);
    RecoveredModel inUse = runner.recover(a, 1); // being evaluated on another thread, say
    RecoveredModel newer = runner.recover(b, 1);
    assertThat(delegate.released).isEmpty();
    runner.release(inUse);
    assertThat(delegate.released).containsExactly(a);
    runner.release(newer); // the kept one stays kept
    assertThat(runner.recover(b, 1)).isSameAs(newer);
    assertThat(delegate.released).containsExactly(a);
  }
}
