package org.rankadaptor.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PruningSettingTest {

  @Test
  void parsesTheThreeFormsAndNamesThemApart() {
    PruningSetting even = PruningSetting.parse("width:0.50").orElseThrow();
    PruningSetting uneven = PruningSetting.parse(" width-global:.5 ").orElseThrow();
    PruningSetting depth = PruningSetting.parse("depth:2").orElseThrow();
    assertThat(even.acrossLayers()).isFalse();
    assertThat(uneven.acrossLayers()).isTrue();
    assertThat(uneven.share()).isEqualTo(0.5);
    assertThat(even.name()).isEqualTo("width-50");
    assertThat(uneven.name()).isEqualTo("width-global-50");
    assertThat(uneven.label()).isEqualTo("Width 50 %, uneven");
    assertThat(depth.name()).isEqualTo("depth-2");
    assertThat(PruningSetting.parse("global:0.5")).isEmpty();
    assertThat(PruningSetting.parse("width-global:2")).isEmpty();
  }
}
