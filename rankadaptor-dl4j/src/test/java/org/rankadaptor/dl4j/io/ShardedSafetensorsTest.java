package org.rankadaptor.dl4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedSafetensorsTest {

  @TempDir Path dir;

  @BeforeEach
  void writeShards() throws IOException {
    new SafetensorsWriter()
        .metadata(Map.of("format", "pt"))
        .add("model.embed_tokens.weight", new float[] {1, 2, 3, 4}, 2, 2)
        .add("model.norm.weight", new float[] {5, 6}, 2)
        .write(dir.resolve("model-00001-of-00002.safetensors"));
    new SafetensorsWriter()
        .add("lm_head.weight", SafetensorsDType.BF16, new float[] {7, 8, 9, 10}, 2, 2)
        .write(dir.resolve("model-00002-of-00002.safetensors"));
  }

  private Path index(String weightMap) throws IOException {
    return Files.writeString(
        dir.resolve(SafetensorsSource.INDEX_FILE_NAME),
        "{\"metadata\":{\"total_size\":20},\"weight_map\":{" + weightMap + "}}");
  }

  private static final String VALID =
      "\"lm_head.weight\":\"model-00002-of-00002.safetensors\","
          + "\"model.embed_tokens.weight\":\"model-00001-of-00002.safetensors\","
          + "\"model.norm.weight\":\"model-00001-of-00002.safetensors\"";

  @Test
  void resolvesEveryTensorThroughTheIndex() throws IOException {
    index(VALID);
    try (SafetensorsSource source = SafetensorsSource.open(dir)) {
      ShardedSafetensors sharded = assertInstanceOf(ShardedSafetensors.class, source);
      assertEquals(List.of("lm_head.weight", "model.embed_tokens.weight", "model.norm.weight"), source.tensorNames());
      assertArrayEquals(new float[] {7, 8, 9, 10}, source.readFloats("lm_head.weight"));
      assertArrayEquals(new float[] {1, 2, 3, 4}, source.readFloats("model.embed_tokens.weight"));
      assertArrayEquals(new double[] {5, 6}, source.readDoubles("model.norm.weight"));
      assertArrayEquals(new long[] {2, 2}, source.info("lm_head.weight").shape());
      assertEquals(2, sharded.shardFiles().size());
      assertEquals(Map.of(), source.metadata(), "metadata of the first shard named (the second file)");
      SafetensorsFormatException e =
          assertThrows(SafetensorsFormatException.class, () -> source.readFloats("absent"));
      assertEquals("absent", e.item().orElseThrow());
    }
  }

  @Test
  void aFolderWithoutIndexOpensItsSingleFile() throws IOException {
    Files.move(dir.resolve("model-00001-of-00002.safetensors"), dir.resolve(SafetensorsSource.SINGLE_FILE_NAME));
    try (SafetensorsSource source = SafetensorsSource.open(dir)) {
      assertInstanceOf(SafetensorsFile.class, source);
      assertEquals(Map.of("format", "pt"), source.metadata());
    }
  }

  @Test
  void aFolderWithNeitherFileIsReportedAsMissing() throws IOException {
    Path empty = Files.createDirectory(dir.resolve("empty"));
    assertThrows(java.nio.file.NoSuchFileException.class, () -> SafetensorsSource.open(empty));
  }

  @Test
  void aMissingShardIsNamedWithItsTensor() throws IOException {
    Path index = index(VALID.replace("model-00002-of-00002", "model-00003-of-00002"));
    SafetensorsFormatException e =
        assertThrows(SafetensorsFormatException.class, () -> ShardedSafetensors.open(index));
    assertEquals(index, e.file());
    assertEquals("lm_head.weight", e.item().orElseThrow());
    assertTrue(e.getMessage().contains("model-00003-of-00002.safetensors"), e.getMessage());
  }

  @Test
  void aTensorAbsentFromItsShardIsNamed() throws IOException {
    Path index = index(VALID.replace(
        "\"lm_head.weight\":\"model-00002-of-00002.safetensors\"",
        "\"lm_head.weight\":\"model-00001-of-00002.safetensors\""));
    SafetensorsFormatException e =
        assertThrows(SafetensorsFormatException.class, () -> ShardedSafetensors.open(index));
    assertEquals("lm_head.weight", e.item().orElseThrow());
    assertTrue(e.getMessage().contains("does not hold it"), e.getMessage());
  }

  @Test
  void rejectsShardsOutsideTheIndexFolderAndMalformedIndexes() throws IOException {
    Path index = index("\"x\":\"../elsewhere.safetensors\"");
    assertThrows(SafetensorsFormatException.class, () -> ShardedSafetensors.open(index));
    index("\"x\":\"/etc/passwd\"");
    assertThrows(SafetensorsFormatException.class, () -> ShardedSafetensors.open(index));
    index("\"x\":3");
    assertThrows(SafetensorsFormatException.class, () -> ShardedSafetensors.open(index));
    Files.writeString(index, "{\"weight_map\":[]}");
    assertThrows(SafetensorsFormatException.class, () -> ShardedSafetensors.open(index));
    Files.writeString(index, "{\"weight_map\":{\"a\":\"b\",\"a\":\"c\"}}");
    assertThrows(SafetensorsFormatException.class, () -> ShardedSafetensors.open(index));
  }

  @Test
  void aMalformedShardIsReportedAgainstTheShard() throws IOException {
    index(VALID);
    Path shard = dir.resolve("model-00002-of-00002.safetensors");
    Files.write(shard, new byte[] {1, 2, 3});
    SafetensorsFormatException e =
        assertThrows(SafetensorsFormatException.class, () -> SafetensorsSource.open(dir));
    assertEquals(shard, e.file());
  }
}
