package org.rankadaptor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ProvenanceTest {

  @Test
  void withSettingAddsAKeyOrReplacesItsValue() {
    Provenance p = new Provenance(3, "m", "d", Map.of("lr", "1e-4", "epochs", "2"));
    Provenance added = p.withSetting("ranks", "8,8");
    assertThat(added.settings()).containsExactly(
        Map.entry("epochs", "2"), Map.entry("lr", "1e-4"), Map.entry("ranks", "8,8"));
    assertThat(added.withSetting("lr", "2e-4").settings()).containsEntry("lr", "2e-4").hasSize(3);
    assertThat(p.settings()).hasSize(2);
  }
}
