package org.rankadaptor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class RankSpaceTest {

  @Test
  void paperSettingSearchesLayers4To29AndPinsTheRestAt8() {
    RankSpace space = RankSpace.paperSetting();
    assertThat(space.numLayers()).isEqualTo(32);
    assertThat(space.searchedLayerCount()).isEqualTo(26);
    assertThat(space.searchedLayers()[0]).isEqualTo(4);
    assertThat(space.searchedLayers()[25]).isEqualTo(29);
    assertThat(space.candidates(3)).containsExactly(8);
    assertThat(space.candidates(4)).containsExactly(2, 4, 6, 8, 10, 12);
    assertThat(space.size()).isEqualTo(BigInteger.valueOf(6).pow(26));
  }

  @Test
  void pinnedLayerWithAnotherRankIsNamed() {
    RankSpace space = RankSpace.paperSetting();
    RankConfig config = space.uniform(4).with(30, 4);
    assertThatThrownBy(() -> space.validate(config))
        .isInstanceOf(InvalidRankConfigException.class)
        .hasMessageContaining("layer 30 is pinned at rank 8 but has rank 4");
  }

  @Test
  void encodingHoldsTheSearchedLayersOnly() {
    RankSpace space = RankSpace.builder(5).searchLayers(1, 3).build();
    assertThat(space.encode(RankConfig.of(8, 2, 4, 12, 8))).containsExactly(2, 4, 12);
  }

  @Test
  void budgetBelowTheCheapestConfigurationIsRejected() {
    long[] costs = {10, 10, 10};
    assertThatThrownBy(() -> RankSpace.builder(3).budget(new ParameterBudget(costs, 59)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("below the cheapest");
  }

  @Test
  void parseNamesTheBadEntry() {
    assertThatThrownBy(() -> RankConfig.parse("8,8,x,4"))
        .isInstanceOf(InvalidRankConfigException.class)
        .hasMessageContaining("layer 2")
        .hasMessageContaining("'x'");
    assertThatThrownBy(() -> RankConfig.parse("8,-1"))
        .isInstanceOf(InvalidRankConfigException.class)
        .hasMessageContaining("layer 1 is -1");
  }
}
