package org.rankadaptor.dl4j.llama;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.rankadaptor.ParameterBudget;
import org.rankadaptor.RankConfig;
import org.rankadaptor.RankSpace;
import org.rankadaptor.dl4j.io.LoraTarget;

/** AdaLoRA's learned allocation handed to RankAdaptor's space. */
class AdaLoraAdaptersTest {

  /** Three layers of two modules at initial rank 12, keeping the given counts of triplets. */
  private static AdaLoraAdapters keeping(int[][] kept) {
    List<Map<LoraTarget, SvdAdapter>> layers = new ArrayList<>();
    for (int[] layer : kept) {
      Map<LoraTarget, SvdAdapter> modules = new EnumMap<>(LoraTarget.class);
      LoraTarget[] targets = {LoraTarget.Q, LoraTarget.DOWN};
      for (int m = 0; m < layer.length; m++) {
        boolean[] mask = new boolean[12];
        for (int i = 0; i < layer[m]; i++) {
          mask[i] = true;
        }
        modules.put(targets[m], new SvdAdapter(Nd4j.zeros(DataType.FLOAT, 4, 12), Nd4j.zeros(DataType.FLOAT, 12, 1),
            Nd4j.zeros(DataType.FLOAT, 12, 4), mask, 1.0));
      }
      layers.add(modules);
    }
    return AdaLoraAdapters.of(layers, 0);
  }

  @Test
  void eachSearchedLayerTakesTheCandidateNearestItsMeanRank() {
    AdaLoraAdapters adapters = keeping(new int[][] {{3, 4}, {12, 12}, {5, 5}, {11, 6}});
    assertThat(adapters.meanLayerRanks()).containsExactly(3.5, 12, 5, 8.5);
    RankSpace space = RankSpace.builder(4).searchLayers(0, 2).build();
    // 3.5 -> 4; 12 -> 12; 5 ties 4 and 6 -> 4; layer 3 is pinned at 8.
    assertThat(adapters.toRankConfig(space)).isEqualTo(RankConfig.of(4, 12, 4, 8));
  }

  @Test
  void aConfigurationOverTheBudgetLowersTheLayerRoundedUpTheMost() {
    AdaLoraAdapters adapters = keeping(new int[][] {{4, 4}, {12, 11}, {5, 5}, {8, 8}});
    long[] perRank = {10, 10, 10, 10};
    RankSpace space = RankSpace.builder(4).searchLayers(0, 2).build()
        .withBudget(new ParameterBudget(perRank, 10 * (4 + 10 + 4 + 8)));
    // Nearest: 4, 12, 4, 8 costs 280 > 260; layer 1 (12 for 11.5) is rounded up the most.
    assertThat(adapters.toRankConfig(space)).isEqualTo(RankConfig.of(4, 10, 4, 8));
    // A budget that only the cheapest configuration meets: every searched layer at its lowest rank.
    RankSpace cheapest = RankSpace.builder(4).searchLayers(0, 2).build().withBudget(new ParameterBudget(perRank, 140));
    assertThat(adapters.toRankConfig(cheapest)).isEqualTo(RankConfig.of(2, 2, 2, 8));
    assertThatThrownBy(() -> adapters.toRankConfig(RankSpace.builder(3).build()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 layers");
  }
}
