package org.rankadaptor;

import com.google.common.collect.ImmutableSortedMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * How a number was made, so that it can be traced: the seed, fingerprints of the model and of the data
 * it was trained and measured on, and the settings that mattered (learning rate, steps, library
 * version, ...).
 *
 * @param seed the seed of the run that produced the number
 * @param modelFingerprint identifies the (pruned) model recovered, e.g. a hash of its weights
 * @param dataFingerprint identifies the recovery and evaluation data
 * @param settings any further settings, sorted by key
 * @since 0.1.0
 * @serial exclude serialised only to ship work between processes of one version (Spark)
 */
public record Provenance(long seed, String modelFingerprint, String dataFingerprint, Map<String, String> settings)
    implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  /** Empty strings for missing fingerprints; the settings copied and sorted. */
  public Provenance {
    modelFingerprint = modelFingerprint == null ? "" : modelFingerprint;
    dataFingerprint = dataFingerprint == null ? "" : dataFingerprint;
    settings = settings == null ? ImmutableSortedMap.of() : ImmutableSortedMap.copyOf(settings);
  }

  /** A provenance with only a seed. */
  public static Provenance ofSeed(long seed) {
    return new Provenance(seed, "", "", Map.of());
  }

  /** A copy with one more setting. */
  public Provenance withSetting(String key, String value) {
    // ImmutableSortedMap.Builder cannot replace a key (buildKeepingLast is unsupported there).
    Map<String, String> merged = new TreeMap<>(settings);
    merged.put(key, value);
    return new Provenance(seed, modelFingerprint, dataFingerprint, merged);
  }
}
