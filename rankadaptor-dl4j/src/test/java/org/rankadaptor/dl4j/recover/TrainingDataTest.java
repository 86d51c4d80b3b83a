package org.rankadaptor.dl4j.recover;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TrainingDataTest {

  /** Example i has i + 2 tokens, all equal to 100 + i, every one but the first a target. */
  private static TrainingData numbered(int n) {
    List<TrainingExample> examples = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int[] tokens = new int[i + 2];
      boolean[] mask = new boolean[i + 2];
      for (int j = 0; j < tokens.length; j++) {
        tokens[j] = 100 + i;
        mask[j] = j > 0;
      }
      examples.add(new TrainingExample(tokens, mask));
    }
    return TrainingData.of(examples);
  }

  @Test
  void textWindowsCoverTheSequence() {
    int[] tokens = {1, 10, 11, 12, 13, 14, 15, 16, 17, 18};
    TrainingData disjoint = TextWindows.of(tokens, 4, 4);
    assertThat(disjoint.examples()).extracting(TrainingExample::tokens)
        .containsExactly(new int[] {1, 10, 11, 12}, new int[] {13, 14, 15, 16}, new int[] {17, 18});
    assertThat(disjoint.examples().get(0).lossMask()).containsExactly(false, true, true, true);
    assertThat(disjoint.targetTokens()).isEqualTo(3 + 3 + 1);

    TrainingData overlapping = TextWindows.of(tokens, 4, 3);
    assertThat(overlapping.examples()).extracting(TrainingExample::tokens)
        .containsExactly(new int[] {1, 10, 11, 12}, new int[] {12, 13, 14, 15}, new int[] {15, 16, 17, 18});
  }

  @Test
  void splitIsSeededDisjointAndComplete() {
    TrainingData data = numbered(20);
    TrainingData.Split a = data.split(5, 42);
    TrainingData.Split b = data.split(5, 42);
    TrainingData.Split c = data.split(5, 43);
    assertThat(a.validation().size()).isEqualTo(5);
    assertThat(a.train().size()).isEqualTo(15);
    assertThat(a.validation().examples()).isEqualTo(b.validation().examples()).isNotEqualTo(c.validation().examples());
    Set<TrainingExample> union = new HashSet<>(a.train().examples());
    union.addAll(a.validation().examples());
    assertThat(union).containsExactlyInAnyOrderElementsOf(data.examples());
    assertThat(a.train().fingerprint()).isNotEqualTo(a.validation().fingerprint()).isNotEqualTo(data.fingerprint());
    assertThat(data.split(0, 1).train().fingerprint()).isEqualTo(data.fingerprint());
  }

  @Test
  void microBatchesArePaddedOnTheRightAndCoverAnEpochOnce() {
    TrainingData data = numbered(7);
    List<MicroBatch> batches = data.microBatches(3, 0, 11, 0);
    assertThat(batches).extracting(MicroBatch::batchSize).containsExactly(3, 3, 1);
    Set<Integer> seen = new HashSet<>();
    for (MicroBatch b : batches) {
      int longest = 0;
      for (int r = 0; r < b.batchSize(); r++) {
        int index = b.exampleIndices()[r];
        assertThat(seen.add(index)).isTrue();
        int len = index + 2;
        longest = Math.max(longest, len);
        for (int t = 0; t < b.length(); t++) {
          boolean real = t < len;
          assertThat(b.tokens()[r][t]).isEqualTo(real ? 100 + index : 0);
          assertThat(b.attentionMask()[r][t]).isEqualTo(real ? 1f : 0f);
          assertThat(b.lossMask()[r][t]).isEqualTo(real && t > 0 ? 1f : 0f);
        }
      }
      assertThat(b.length()).isEqualTo(longest);
    }
    assertThat(seen).hasSize(7);
    assertThat(batches.stream().mapToLong(MicroBatch::targetTokens).sum()).isEqualTo(data.targetTokens());
  }

  @Test
  void inOrderBatchesKeepTheExamplesOrder() {
    TrainingData data = numbered(5);
    List<MicroBatch> batches = data.microBatchesInOrder(2, -1);
    assertThat(batches).extracting(MicroBatch::exampleIndices)
        .containsExactly(new int[] {0, 1}, new int[] {2, 3}, new int[] {4});
    assertThat(batches.get(0).tokens()[0]).containsExactly(100, 100, -1);
    assertThat(batches.get(0).length()).isEqualTo(3);
  }

  @Test
  void batchOrderDependsOnSeedAndEpochOnly() {
    TrainingData data = numbered(30);
    assertThat(order(data, 1, 0)).isEqualTo(order(data, 1, 0));
    assertThat(order(data, 1, 0)).isNotEqualTo(order(data, 1, 1));
    assertThat(order(data, 1, 0)).isNotEqualTo(order(data, 2, 0));
  }

  private static List<Integer> order(TrainingData data, long seed, int epoch) {
    List<Integer> order = new ArrayList<>();
    for (MicroBatch b : data.microBatches(4, 0, seed, epoch)) {
      for (int i : b.exampleIndices()) {
        order.add(i);
      }
    }
    return order;
  }
}
