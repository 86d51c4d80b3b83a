package org.rankadaptor.dl4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.rankadaptor.dl4j.io.Llama2cTokenizer;
import org.rankadaptor.dl4j.testing.SharedFiles;

class RecoveredEvaluatorsTest {

  @Test
  void aCappedTextKeepsTheTokensOfTheWholeText() throws IOException {
    Llama2cTokenizer tokenizer = Llama2cTokenizer.read(SharedFiles.require("data/models/stories260K/tok512.bin"));
    String text = Files.readString(SharedFiles.require("data/text/tinystories/TinyStories-valid-excerpt.txt"));
    int[] whole = tokenizer.encode(text, true, false);
    for (int cap : new int[] {2, 300, 2000}) {
      int[] prefix = RecoveredEvaluators.encodePrefix(text, tokenizer, cap);
      assertThat(prefix.length).isGreaterThanOrEqualTo(cap + RecoveredEvaluators.PREFIX_MARGIN_TOKENS);
      assertThat(prefix.length).isLessThan(whole.length);
      assertThat(Arrays.copyOf(prefix, cap)).isEqualTo(Arrays.copyOf(whole, cap));
    }
    // A cap beyond the text gives the whole text.
    assertThat(RecoveredEvaluators.encodePrefix(text, tokenizer, whole.length * 2)).isEqualTo(whole);
  }
}
