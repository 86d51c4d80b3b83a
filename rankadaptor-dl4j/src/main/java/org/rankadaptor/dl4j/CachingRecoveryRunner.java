package org.rankadaptor.dl4j;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RecoveryRunner;
import org.rankadaptor.dl4j.recover.RecoveredModel;

/**
 * Keeps the last recovered model so that the same (configuration, seed) asked for twice in a row, as
 * when one recovery is measured on several tasks or the search's best is wanted again, trains once.
 * Counts the recoveries it actually runs. Holding only the last model bounds memory to one adapter set.
 *
 * <p>Safe for several threads, as a search with a threads executor calls it: recoveries run in
 * parallel, and a model is released to the delegate only once it is neither kept nor in use.
 */
final class CachingRecoveryRunner implements RecoveryRunner<RecoveredModel> {

  private final RecoveryRunner<RecoveredModel> delegate;
  private RankConfig lastConfig;
  private long lastSeed;
  private RecoveredModel last;
  private int recoveries;
  /** Models handed out and not yet released, by identity, with their users. */
  private final Map<RecoveredModel, Integer> inUse = new IdentityHashMap<>();

  CachingRecoveryRunner(RecoveryRunner<RecoveredModel> delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public RecoveredModel recover(RankConfig config, long seed) {
    synchronized (this) {
      if (last != null && seed == lastSeed && config.equals(lastConfig)) {
        inUse.merge(last, 1, Integer::sum);
        return last;
      }
    }
    RecoveredModel recovered = delegate.recover(config, seed);
    RecoveredModel replaced;
    synchronized (this) {
      recoveries++;
      replaced = last;
      last = recovered;
      lastConfig = config;
      lastSeed = seed;
      inUse.merge(recovered, 1, Integer::sum);
      if (replaced == null || inUse.containsKey(replaced)) {
        replaced = null; // still in use: released by its last user
      }
    }
    if (replaced != null) {
      delegate.release(replaced);
    }
    return recovered;
  }

  /** The kept model is released only when a newer one replaces it and nobody uses it. */
  @Override
  public void release(RecoveredModel model) {
    synchronized (this) {
      Integer users = inUse.get(model);
      if (users == null) {
        return;
      }
      if (users > 1) {
        inUse.put(model, users - 1);
        return;
      }
      inUse.remove(model);
      if (model == last) {
        return;
      }
    }
    delegate.release(model);
  }

  @Override
  public String fingerprint() {
    return delegate.fingerprint();
  }

  /** Whether {@link #recover} would return the kept model for these arguments. */
  synchronized boolean isCached(RankConfig config, long seed) {
    return last != null && seed == lastSeed && config.equals(lastConfig);
  }

  /** Lets go of the kept model without releasing it: its new owner (the caller) keeps it. */
  synchronized void handOver() {
    if (last != null) {
      inUse.remove(last);
    }
    last = null;
    lastConfig = null;
  }

  /** Recoveries run through the delegate so far. */
  synchronized int recoveries() {
    return recoveries;
  }
}
