package org.rankadaptor.dl4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Truncated, corrupted and overgrown llama2.c files: a reader either succeeds or throws a {@link
 * CheckpointFormatException} naming the file, never another exception, a hang or an out-of-memory.
 */
class Llama2cReadersFuzzTest {

  private static final byte[] CHECKPOINT = CheckpointBytes.tinyCheckpoint();
  private static final byte[] TOKENIZER =
      CheckpointBytes.tokenizer("<unk>", "<s>", "</s>", " ", "a", "b", " a", "ab", "<0x41>");

  private interface Reader {
    void read(Path file) throws IOException;
  }

  /** Applies a truncation, byte corruptions and an appended tail to {@code valid}. */
  private static byte[] mutate(
      byte[] valid, int cut, int position, int value, int corruptions, int extra) {
    byte[] bytes = Arrays.copyOf(valid, Math.min(valid.length, cut));
    for (int i = 0; i < corruptions && bytes.length > 0; i++) {
      bytes[Math.floorMod(position * (i + 1) * 31 + i, bytes.length)] = (byte) (value + i * 77);
    }
    byte[] grown = Arrays.copyOf(bytes, bytes.length + extra);
    Arrays.fill(grown, bytes.length, grown.length, (byte) 0x7f);
    return grown;
  }

  private static void assertTypedOutcome(byte[] bytes, Reader reader) throws IOException {
    Path file = Files.createTempFile("fuzz-llama2c-", ".bin");
    try {
      Files.write(file, bytes);
      reader.read(file);
    } catch (CheckpointFormatException e) {
      assertTrue(e.getMessage().contains(file.getFileName().toString()), e.getMessage());
      assertEquals(file, e.file());
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Property(tries = 150)
  void checkpointReaderFailsOnlyWithTypedErrors(
      @ForAll @IntRange(min = 0, max = 2000) int cut,
      @ForAll @IntRange(min = 0, max = 1 << 20) int position,
      @ForAll int value,
      @ForAll @IntRange(min = 0, max = 6) int corruptions,
      @ForAll @IntRange(min = 0, max = 12) int extra)
      throws IOException {
    byte[] bytes = mutate(CHECKPOINT, cut, position, value, corruptions, extra);
    assertTypedOutcome(bytes, Llama2cCheckpoint::read);
  }

  @Property(tries = 150)
  void tokenizerReaderFailsOnlyWithTypedErrors(
      @ForAll @IntRange(min = 0, max = 200) int cut,
      @ForAll @IntRange(min = 0, max = 1 << 20) int position,
      @ForAll int value,
      @ForAll @IntRange(min = 0, max = 6) int corruptions,
      @ForAll @IntRange(min = 0, max = 12) int extra,
      @ForAll @IntRange(min = 1, max = 12) int vocab)
      throws IOException {
    byte[] bytes = mutate(TOKENIZER, cut, position, value, corruptions, extra);
    assertTypedOutcome(bytes, Llama2cTokenizer::read);
    assertTypedOutcome(bytes, file -> Llama2cTokenizer.read(file, vocab));
  }

  @org.junit.jupiter.api.Test
  void untouchedFilesRead() throws IOException {
    Path file = Files.createTempFile("fuzz-llama2c-", ".bin");
    try {
      Files.write(file, CHECKPOINT);
      Llama2cCheckpoint c = Llama2cCheckpoint.read(file);
      assertEquals(5 * 4, c.classifier().length);
      assertEquals(0.0f, c.tokenEmbedding()[0]);
      Files.write(file, TOKENIZER);
      Llama2cTokenizer t = Llama2cTokenizer.read(file);
      assertEquals(9, t.vocabSize());
      assertEquals("ab", t.decode(t.encode("ab", false, false)));
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
