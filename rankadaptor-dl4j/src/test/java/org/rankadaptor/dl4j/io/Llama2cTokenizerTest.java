package org.rankadaptor.dl4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rankadaptor.dl4j.testing.SharedFiles;

/** llama2.c's tok512.bin: ids known from run.c's algorithm, and round trips on real text. */
class Llama2cTokenizerTest {

  private static Llama2cTokenizer tokenizer;

  @BeforeAll
  static void load() throws IOException {
    tokenizer = Llama2cTokenizer.read(SharedFiles.require("data/models/stories260K/tok512.bin"), 512);
  }

  @Test
  void readsTheWholeVocabulary() throws IOException {
    assertEquals(512, tokenizer.vocabSize());
    assertEquals(1, tokenizer.bosId());
    assertEquals(2, tokenizer.eosId());
    assertEquals("<0x00>", new String(tokenizer.pieceBytes(3), StandardCharsets.US_ASCII));
    Llama2cTokenizer untilEnd =
        Llama2cTokenizer.read(SharedFiles.require("data/models/stories260K/tok512.bin"));
    assertEquals(512, untilEnd.vocabSize());
  }

  @Test
  void encodesKnownIds() {
    // Ids from llama2.c run.c's algorithm: dummy-prefix space, code points, best-score merges.
    assertArrayEquals(new int[] {1, 403, 407, 261, 378}, tokenizer.encode("Once upon a time", true, false));
    assertArrayEquals(
        new int[] {317, 394, 261, 370, 400, 428, 426, 2},
        tokenizer.encode("Lily saw a big dog.", false, true));
    // Characters outside the vocabulary fall back to <0xXX> byte tokens (id byte + 3).
    assertArrayEquals(
        new int[] {270, 485, 306, 414, 410, 229, 155, 134, 410, 233, 154, 168, 233, 159, 175},
        tokenizer.encode("héllo ☃ 日本", false, false));
    assertArrayEquals(new int[0], tokenizer.encode("", false, false));
  }

  @Test
  void roundTripsRealText() throws IOException {
    String story =
        Files.readString(SharedFiles.require("data/text/tinystories/TinyStories-valid-excerpt.txt"));
    for (String line : story.lines().limit(40).toList()) {
      int[] ids = tokenizer.encode(line, true, true);
      assertEquals(line, tokenizer.decode(ids), "line: " + line);
    }
    for (String text : List.of("héllo ☃ 日本 €", "  two leading spaces", "tabs\tand\nnewlines")) {
      assertEquals(text, tokenizer.decode(tokenizer.encode(text, true, false)));
    }
  }

  @Test
  void decodingStripsOnlyTheDummyPrefix() {
    assertEquals("Once upon a time", tokenizer.decode(new int[] {1, 403, 407, 261, 378}));
    assertEquals("Once upon", tokenizer.decode(new int[] {403, 407}));
    assertTrue(tokenizer.decode(new int[] {261, 378}).startsWith("a"));
    assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {512}));
  }
}
