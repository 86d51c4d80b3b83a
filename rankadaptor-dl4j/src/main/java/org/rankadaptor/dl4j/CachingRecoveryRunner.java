package org.rankadaptor.dl4j;

import java.util.Objects;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;

/**
 * Keeps the last recovered model so that the same (configuration, seed) asked for twice in a row, as
 * when one recovery is measured on several tasks or the search's best is wanted again, trains once.
 * Counts the recoveries it actually runs. Holding only the last model bounds memory to one adapter set.
 */
final class CachingRecoveryRunner implements RecoveryRunner<RecoveredModel> {

  private final RecoveryRunner<RecoveredModel> delegate;
  private RankConfig lastConfig;
  private long lastSeed;
  private RecoveredModel last;
  private int recoveries;

  CachingRecoveryRunner(RecoveryRunner<RecoveredModel> delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public RecoveredModel recover(RankConfig config, long seed) {
    if (last != null && seed == lastSeed && config.equals(lastConfig)) {
      return last;
    }
    RecoveredModel recovered = delegate.recover(config, seed);
    recoveries++;
    if (last != null) {
      delegate.release(last);
    }
    last = recovered;
    lastConfig = config;
    lastSeed = seed;
    return recovered;
  }

  /** The cached model is released only when a newer one replaces it. */
  @Override
  public void release(RecoveredModel model) {}

  @Override
  public String fingerprint() {
    return delegate.fingerprint();
  }

  /** Whether {@link #recover} would return the kept model for these arguments. */
  boolean isCached(RankConfig config, long seed) {
    return last != null && seed == lastSeed && config.equals(lastConfig);
  }

  /** Lets go of the kept model without releasing it: its new owner (the caller) keeps it. */
  void handOver() {
    last = null;
    lastConfig = null;
  }

  /** Recoveries run through the delegate so far. */
  int recoveries() {
    return recoveries;
  }
}
