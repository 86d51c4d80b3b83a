package org.rankadaptor.dl4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.dl4j.testing.SharedFiles;

/** The stories260K checkpoint and hand-made broken files. */
class Llama2cCheckpointTest {

  @Test
  void readsStories260K() throws IOException {
    Llama2cCheckpoint c =
        Llama2cCheckpoint.read(SharedFiles.require("data/models/stories260K/stories260K.bin"));
    assertEquals(new Llama2cCheckpoint.Header(64, 172, 5, 8, 4, 512, true, 512), c.header());
    assertEquals(512 * 64, c.tokenEmbedding().length);
    assertEquals(5 * 32 * 64, c.wk().length);
    assertEquals(5 * 172 * 64, c.w2().length);
    assertEquals(512 * 4, c.freqCisReal().length);
    assertSame(c.tokenEmbedding(), c.classifier());
    // freq_cis_real at position 0 is cos(0) = 1 for every frequency.
    assertEquals(1.0f, c.freqCisReal()[0], 1e-6);
  }

  @Test
  void truncatedRealFileNamesFileAndSizes(@TempDir Path dir) throws IOException {
    byte[] bytes =
        Files.readAllBytes(SharedFiles.require("data/models/stories260K/stories260K.bin"));
    Path cut = dir.resolve("cut.bin");
    Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 4));
    CheckpointFormatException e =
        assertThrows(CheckpointFormatException.class, () -> Llama2cCheckpoint.read(cut));
    assertTrue(e.getMessage().contains("cut.bin") && e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void nonFiniteWeightsAreRefusedAtLoadNamingTheTensor(@TempDir Path dir) throws IOException {
    byte[] bytes =
        Files.readAllBytes(SharedFiles.require("data/models/stories260K/stories260K.bin"));
    // The header is 7 ints; the embedding table follows. Its 11th value becomes NaN.
    java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(28 + 10 * 4, Float.NaN);
    Path broken = dir.resolve("nan.bin");
    Files.write(broken, bytes);
    CheckpointFormatException e =
        assertThrows(CheckpointFormatException.class, () -> Llama2cCheckpoint.read(broken));
    assertTrue(e.getMessage().contains("nan.bin") && e.getMessage().contains("token_embedding_table")
        && e.getMessage().contains("element 10"), e.getMessage());
  }

  @Test
  void rejectsNonsenseHeaders(@TempDir Path dir) throws IOException {
    assertHeaderRejected(dir, new int[] {64, 172, 5, 8, 3, 512, 512}, "n_kv_heads");
    assertHeaderRejected(dir, new int[] {64, 172, 5, 7, 7, 512, 512}, "divisible");
    assertHeaderRejected(dir, new int[] {0, 172, 5, 8, 4, 512, 512}, "dim");
    assertHeaderRejected(dir, new int[] {1 << 30, 172, 5, 8, 4, 512, 512}, "dim");
    assertHeaderRejected(dir, new int[] {64, 172, 5, 8, 4, Integer.MIN_VALUE, 512}, "vocab_size");
    // Legal but huge: rejected by the size check before anything is allocated.
    assertHeaderRejected(dir, new int[] {65536, 262144, 1024, 256, 256, 4_000_000, 1 << 20}, "bytes");
    Path shortHeader = dir.resolve("short.bin");
    Files.write(shortHeader, new byte[] {1, 0, 0, 0, 2});
    CheckpointFormatException e =
        assertThrows(CheckpointFormatException.class, () -> Llama2cCheckpoint.read(shortHeader));
    assertTrue(e.getMessage().contains("hidden_dim"), e.getMessage());
  }

  private static void assertHeaderRejected(Path dir, int[] header, String expected) throws IOException {
    Path file = dir.resolve("header.bin");
    Files.write(file, CheckpointBytes.header(header));
    CheckpointFormatException e =
        assertThrows(CheckpointFormatException.class, () -> Llama2cCheckpoint.read(file));
    assertTrue(e.getMessage().contains("header.bin"), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
