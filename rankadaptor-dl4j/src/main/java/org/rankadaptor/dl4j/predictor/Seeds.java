package org.rankadaptor.dl4j.predictor;

/** Derives independent seeds from one, so every random stream of the model hangs off its seed. */
final class Seeds {
  private Seeds() {}

  /** A seed for stream {@code index} of {@code seed}, decorrelated from the others (SplitMix64 finaliser). */
  static long mix(long seed, long index) {
    long z = seed + 0x9E3779B97F4A7C15L * (index + 1);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
