package org.rankadaptor;

/**
 * Derives independent seeds from one, so that every random stream of a run (candidate sampling,
 * adapter initialisation, data order, dropout, ...) hangs off the one seed the user gave.
 *
 * @since 0.1.0
 */
public final class Seeds {
  private Seeds() {}

  /**
   * A seed for stream {@code stream} of {@code seed}, decorrelated from the seed's other streams:
   * SplitMix64's finaliser applied to {@code seed + golden * (stream + 1)}.
   */
  public static long mix(long seed, long stream) {
    long z = seed + 0x9E3779B97F4A7C15L * (stream + 1);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
