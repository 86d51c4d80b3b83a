package org.rankadaptor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SeedsTest {

  @Test
  void streamsOfOneSeedAreDistinctAndReproducible() {
    Set<Long> seen = new HashSet<>();
    for (long stream = -2; stream < 1000; stream++) {
      assertThat(Seeds.mix(42, stream)).isEqualTo(Seeds.mix(42, stream));
      seen.add(Seeds.mix(42, stream));
    }
    assertThat(seen).hasSize(1002);
    assertThat(Seeds.mix(42, 0)).isNotEqualTo(Seeds.mix(43, 0));
  }

  @Test
  void neighbouringSeedsGiveUnrelatedStreams() {
    // Half the bits differ on average; a plain seed + stream would differ in one or two.
    int differing = Long.bitCount(Seeds.mix(1, 0) ^ Seeds.mix(2, 0));
    assertThat(differing).isBetween(16, 48);
  }
}
