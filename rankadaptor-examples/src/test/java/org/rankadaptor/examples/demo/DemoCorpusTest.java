package org.rankadaptor.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rankadaptor.examples.demo.DemoCorpus.Domain;

/** The generated text and its tokenizer. */
class DemoCorpusTest {

  private final WordTokenizer tok = WordTokenizer.forDemoCorpus();

  @Test
  void everyGeneratedWordIsInTheVocabularyAndTextRoundTrips() {
    for (Domain d : Domain.values()) {
      String text = DemoCorpus.generate(d, 200, 7);
      int[] ids = tok.encode(text, true, true);
      assertThat(Arrays.stream(ids).filter(id -> id == WordTokenizer.UNKNOWN)).as(d.id()).isEmpty();
      assertThat(Arrays.stream(ids).allMatch(id -> id >= 0 && id < tok.vocabSize())).isTrue();
      assertThat(ids[0]).isEqualTo(tok.bosId());
      assertThat(ids[ids.length - 1]).isEqualTo(tok.eosId());
      assertThat(tok.decode(ids)).isEqualTo(text);
    }
  }

  @Test
  void theSameSeedGivesTheSameTextAndAnotherSeedOtherText() {
    assertThat(DemoCorpus.mixed(50, 3)).isEqualTo(DemoCorpus.mixed(50, 3));
    assertThat(DemoCorpus.mixed(50, 3)).isNotEqualTo(DemoCorpus.mixed(50, 4));
    assertThat(DemoCorpus.generate(Domain.PETS, 50, 3)).isNotEqualTo(DemoCorpus.generate(Domain.KITCHEN, 50, 3));
  }

  @Test
  void mixedTextTakesTheDomainsInTurn() {
    String[] lines = DemoCorpus.mixed(8, 1).split("\n");
    assertThat(lines).hasSize(8);
    assertThat(lines[3]).contains(" counts the ");
    assertThat(lines[7]).contains(" counts the ");
    assertThat(lines[2]).startsWith("on ");
  }

  @Test
  void unknownWordsMapToTheUnknownToken() {
    assertThat(tok.encode("the zebra", false, false)).containsExactly(tok.encode("the", false, false)[0],
        WordTokenizer.UNKNOWN);
    assertThat(tok.decode(new int[] {WordTokenizer.UNKNOWN})).isEqualTo("<unk>");
  }

  @Test
  void badWordListsAreRejectedByName() {
    assertThatThrownBy(() -> new WordTokenizer(List.of("a", "b c")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'b c'");
    assertThatThrownBy(() -> new WordTokenizer(List.of("a", "a")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a' is given twice");
  }
}
