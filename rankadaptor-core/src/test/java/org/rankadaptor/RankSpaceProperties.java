package org.rankadaptor;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class RankSpaceProperties {

  /** Spaces of 1..30 layers, a random searched range, random candidate sets, with or without a budget. */
  @Provide
  Arbitrary<RankSpace> spaces() {
    Arbitrary<Integer> layers = Arbitraries.integers().between(1, 30);
    return layers.flatMap(n -> Combinators.combine(
            Arbitraries.integers().between(0, n - 1),
            Arbitraries.integers().between(0, n - 1),
            Arbitraries.integers().between(1, 16).set().ofMinSize(1).ofMaxSize(6),
            Arbitraries.integers().between(0, 3),
            Arbitraries.longs().between(1, 50).array(long[].class).ofSize(n),
            Arbitraries.doubles().between(0.0, 1.0))
        .as((a, b, cands, pinned, costs, slack) -> {
          RankSpace space = RankSpace.builder(n)
              .candidates(cands.stream().mapToInt(Integer::intValue).toArray())
              .searchLayers(Math.min(a, b), Math.max(a, b), pinned)
              .build();
          if (slack < 0.3) {
            return space;
          }
          long min = new ParameterBudget(costs, Long.MAX_VALUE).trainableParameters(space.cheapest());
          long max = new ParameterBudget(costs, Long.MAX_VALUE).trainableParameters(maxConfig(space));
          return space.withBudget(new ParameterBudget(costs, min + (long) ((max - min) * (slack - 0.3))));
        }));
  }

  private static RankConfig maxConfig(RankSpace space) {
    int[] ranks = new int[space.numLayers()];
    for (int i = 0; i < ranks.length; i++) {
      List<Integer> c = space.candidates(i);
      ranks[i] = c.get(c.size() - 1);
    }
    return RankConfig.of(ranks);
  }

  @Property(tries = 200)
  void samplesStayInTheSpaceAndBudget(@ForAll("spaces") RankSpace space, @ForAll long seed) {
    for (RankConfig config : space.sample(20, seed, false)) {
      assertThat(space.contains(config)).as("%s in %s", config, space).isTrue();
      space.budget().ifPresent(b -> assertThat(b.allows(config)).isTrue());
    }
  }

  @Property(tries = 200)
  void mutationsAndNeighboursStayInTheSpace(
      @ForAll("spaces") RankSpace space, @ForAll long seed, @ForAll @IntRange(min = 1, max = 5) int layers) {
    SplittableRandom random = new SplittableRandom(seed);
    RankConfig config = space.sample(random);
    for (int i = 0; i < 10; i++) {
      RankConfig mutated = space.mutate(config, random, layers);
      assertThat(space.contains(mutated)).as("%s mutated to %s", config, mutated).isTrue();
      config = mutated;
    }
    for (RankConfig neighbour : space.neighbours(config)) {
      assertThat(space.contains(neighbour)).isTrue();
      assertThat(neighbour).isNotEqualTo(config);
    }
  }

  @Property(tries = 100)
  void distinctSamplesAreDistinct(@ForAll("spaces") RankSpace space, @ForAll long seed) {
    int count = space.size().min(BigInteger.valueOf(15)).intValueExact();
    if (space.budget().isPresent()) {
      return; // a budget can leave fewer configurations than size() counts
    }
    List<RankConfig> sample = space.sample(count, seed, true);
    assertThat(sample).doesNotHaveDuplicates().hasSize(count);
  }

  @Property(tries = 100)
  void samplingIsReproducible(@ForAll("spaces") RankSpace space, @ForAll long seed) {
    assertThat(space.sample(10, seed, false)).isEqualTo(space.sample(10, seed, false));
  }

  @Property(tries = 200)
  void sizeIsTheProductOfCandidateCounts(@ForAll("spaces") RankSpace space) {
    BigInteger product = BigInteger.ONE;
    for (int layer = 0; layer < space.numLayers(); layer++) {
      product = product.multiply(BigInteger.valueOf(space.candidates(layer).size()));
    }
    assertThat(space.size()).isEqualTo(product);
  }

  @Property(tries = 300)
  void formatParseRoundTrip(@ForAll("rankArrays") int[] ranks) {
    RankConfig config = RankConfig.of(ranks);
    assertThat(RankConfig.parse(config.format())).isEqualTo(config);
    assertThat(RankConfig.parse(" " + config.format().replace(",", " , ") + " ")).isEqualTo(config);
  }

  @Provide
  Arbitrary<int[]> rankArrays() {
    return Arbitraries.integers().between(0, 4096).array(int[].class).ofMinSize(1).ofMaxSize(64);
  }

  @Property(tries = 200)
  void validationNamesTheLayerAndValue(
      @ForAll @IntRange(min = 0, max = 25) int layer, @ForAll @IntRange(min = 13, max = 1000) int badRank) {
    RankSpace space = RankSpace.builder(26).build();
    RankConfig config = space.uniform(8).with(layer, badRank);
    assertThat(space.contains(config)).isFalse();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> space.validate(config))
        .isInstanceOf(InvalidRankConfigException.class)
        .hasMessageContaining("layer " + layer)
        .hasMessageContaining(Integer.toString(badRank));
  }

  @Property(tries = 100)
  void validationRejectsWrongLengths(@ForAll @IntRange(min = 1, max = 60) int length) {
    RankSpace space = RankSpace.paperSetting();
    RankConfig config = RankConfig.uniform(length, 8);
    if (length == 32) {
      assertThat(space.contains(config)).isTrue();
    } else {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> space.validate(config))
          .isInstanceOf(InvalidRankConfigException.class)
          .hasMessageContaining(length + " layers")
          .hasMessageContaining("32");
    }
  }
}
