package org.rankadaptor.dl4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tokenizer.json files written by the test itself: a word-level and a BPE model. */
class HfTokenizerTest {

  @TempDir Path dir;

  static String addedToken(int id, String content) {
    return "{\"id\":" + id + ",\"content\":\"" + content + "\",\"single_word\":false,\"lstrip\":false,"
        + "\"rstrip\":false,\"normalized\":false,\"special\":true}";
  }

  static final String WORD_LEVEL =
      "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":["
          + addedToken(0, "<unk>") + "," + addedToken(1, "<s>") + "," + addedToken(2, "</s>") + "],"
          + "\"normalizer\":{\"type\":\"Lowercase\"},\"pre_tokenizer\":{\"type\":\"Whitespace\"},"
          + "\"post_processor\":null,\"decoder\":null,"
          + "\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"<unk>\":0,\"<s>\":1,\"</s>\":2,"
          + "\"once\":3,\"upon\":4,\"a\":5,\"time\":6,\",\":7,\"lily\":8},\"unk_token\":\"<unk>\"}}";

  // Merges build "low" and "er" from characters; "lower" becomes [low, er] and "owe" stays in pieces.
  static final String BPE =
      "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":["
          + addedToken(0, "<unk>") + "," + addedToken(1, "<bos>") + "," + addedToken(2, "<eos>") + "],"
          + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Whitespace\"},\"post_processor\":null,"
          + "\"decoder\":null,\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\","
          + "\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,\"fuse_unk\":false,"
          + "\"byte_fallback\":false,\"vocab\":{\"<unk>\":0,\"<bos>\":1,\"<eos>\":2,\"l\":3,\"o\":4,"
          + "\"w\":5,\"e\":6,\"r\":7,\"lo\":8,\"low\":9,\"er\":10},"
          + "\"merges\":[\"l o\",\"lo w\",\"e r\"]}}";

  @Test
  void wordLevelTokenizerEncodesAndDecodes() throws IOException {
    Path file = Files.writeString(dir.resolve("tokenizer.json"), WORD_LEVEL);
    try (HfTokenizer tokenizer = HfTokenizer.load(dir)) {
      assertEquals(9, tokenizer.vocabSize());
      assertEquals(1, tokenizer.bosId());
      assertEquals(2, tokenizer.eosId());
      assertEquals(file, tokenizer.file());
      assertArrayEquals(new int[] {3, 4, 5, 6, 7, 8}, tokenizer.encode("Once upon a time, Lily", false, false));
      assertArrayEquals(new int[] {1, 3, 0, 2}, tokenizer.encode("once twice", true, true));
      assertEquals("once upon a time", tokenizer.decode(new int[] {1, 3, 4, 5, 6, 2}));
      assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {9}));
      // No truncation: a text far beyond any model_max_length keeps every token.
      assertEquals(3000, tokenizer.encode("once upon a ".repeat(1000), false, false).length);
    }
  }

  @Test
  void bpeTokenizerAppliesItsMergesAndTakesSpecialTokensFromTokenizerConfig() throws IOException {
    Files.writeString(dir.resolve("tokenizer.json"), BPE);
    Files.writeString(dir.resolve("tokenizer_config.json"),
        "{\"bos_token\":{\"content\":\"<bos>\",\"__type\":\"AddedToken\"},\"eos_token\":\"<eos>\"}");
    try (HfTokenizer tokenizer = HfTokenizer.load(dir.resolve("tokenizer.json"))) {
      assertEquals(11, tokenizer.vocabSize());
      assertArrayEquals(new int[] {1, 9, 10, 4, 5, 6}, tokenizer.encode("lower owe", true, false));
      assertEquals("low er o w e", tokenizer.decode(new int[] {9, 10, 4, 5, 6, 2}));
    }
  }

  @Test
  void specialTokensMissingFromTheVocabularyAreNamed() throws IOException {
    Path file = Files.writeString(dir.resolve("tokenizer.json"), BPE);
    FileFormatException e = assertThrows(FileFormatException.class, () -> HfTokenizer.load(file));
    assertEquals("bos_token", e.item().orElseThrow(), "BPE file has <bos>, not LLaMA's default <s>");
    e = assertThrows(FileFormatException.class, () -> HfTokenizer.load(file, "<bos>", "<end>"));
    assertEquals("eos_token", e.item().orElseThrow());
  }

  @Test
  void malformedFilesFailWithATypedException() throws IOException {
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, "{\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"<s>\":0,\"</s>\":1}}}");
    FileFormatException e = assertThrows(FileFormatException.class, () -> HfTokenizer.load(file));
    assertEquals(file, e.file()); // the native library needs unk_token and more
    Files.writeString(file, "{\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"<s>\":-4}}}");
    assertEquals("model.vocab.<s>",
        assertThrows(FileFormatException.class, () -> HfTokenizer.load(file)).item().orElseThrow());
    Files.writeString(file, "{\"model\":");
    assertThrows(FileFormatException.class, () -> HfTokenizer.load(file));
  }

  @Test
  void aMissingOptionalTokenizerLibraryIsNamedWithTheArtifactToAdd() {
    HfTokenizer.requireClass(HfTokenizer.DJL_TOKENIZER, HfTokenizer.DJL_ARTIFACT); // present in this build
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> HfTokenizer.requireClass("ai.djl.huggingface.tokenizers.Absent", HfTokenizer.DJL_ARTIFACT));
    assertEquals(true, e.getMessage().contains("ai.djl.huggingface:tokenizers:0.36.0"), e.getMessage());
  }
}
