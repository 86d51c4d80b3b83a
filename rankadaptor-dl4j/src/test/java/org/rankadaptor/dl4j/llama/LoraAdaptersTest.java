package org.rankadaptor.dl4j.llama;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.nd4j.linalg.api.buffer.DataType;
import org.rankadaptor.ParameterBudget;
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.io.LoraTarget;
import org.rankadaptor.dl4j.runtime.Nd4jRuntime;

/** The per-rank cost of a layer's adapters, on layers of different shapes. */
class LoraAdaptersTest {

  @Property(tries = 30)
  void parametersPerRankTimesRanksIsTheAdaptersParameterCount(
      @ForAll @IntRange(min = 1, max = 4) int nLayers,
      @ForAll @IntRange(min = 0, max = 1_000_000) int shapeSeed,
      @ForAll("targetMask") int targetMask) {
    Nd4jRuntime.ensureInitialized();
    SplittableRandom random = new SplittableRandom(shapeSeed);
    int headDim = 4;
    int dim = 16;
    List<LayerShape> shapes = new ArrayList<>();
    int[] ranks = new int[nLayers];
    for (int l = 0; l < nLayers; l++) {
      int kv = 1 + random.nextInt(2);
      int heads = kv * (1 + random.nextInt(2));
      shapes.add(new LayerShape(heads, kv, headDim, 8 + random.nextInt(24)));
      ranks[l] = random.nextInt(5); // 0: no adapter on that layer
    }
    LlamaConfig config = new LlamaConfig(dim, 32, 1e-5, 10000, true, 16, shapes);
    Set<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
    for (LoraTarget t : LoraTarget.values()) {
      if ((targetMask & (1 << t.ordinal())) != 0) {
        targets.add(t);
      }
    }
    double[] alphas = new double[nLayers];
    Arrays.fill(alphas, 16);
    LoraAdapters adapters = LoraAdapters.init(config, ranks, alphas, targets, 0.0, 1, DataType.FLOAT);

    long[] perRank = LoraAdapters.parametersPerRank(config, targets);
    ParameterBudget budget = new ParameterBudget(perRank, Long.MAX_VALUE);
    assertThat(budget.trainableParameters(RankConfig.of(ranks))).isEqualTo(adapters.parameterCount());
  }

  @net.jqwik.api.Example
  void aRankAboveTheSmallestProjectionDimensionIsRefusedBeforeAllocating() {
    // One kv head of width 4: k_proj and v_proj map 16 -> 4, so no rank above 4 adds capacity.
    LlamaConfig config = new LlamaConfig(16, 32, 1e-5, 10000, true, 16, List.of(new LayerShape(2, 1, 4, 24)));
    assertThat(LoraAdapters.maxRank(config, 0, EnumSet.allOf(LoraTarget.class))).isEqualTo(4);
    assertThat(LoraAdapters.maxRank(config, 0, EnumSet.of(LoraTarget.GATE))).isEqualTo(16);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> LoraAdapters.init(config, new int[] {5}, 8.0, 1,
        DataType.FLOAT)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layer 0 has rank 5")
        .hasMessageContaining("dimension 4");
    assertThat(LoraAdapters.init(config, new int[] {4}, 8.0, 1, DataType.FLOAT).parameterCount()).isPositive();
  }

  @Provide
  Arbitrary<Integer> targetMask() {
    return Arbitraries.integers().between(1, (1 << LoraTarget.values().length) - 1);
  }
}
