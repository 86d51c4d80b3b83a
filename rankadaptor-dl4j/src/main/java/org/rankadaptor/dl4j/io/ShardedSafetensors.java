package org.rankadaptor.dl4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint split over several safetensors files, as Hugging Face saves large models: an index
 * ({@code model.safetensors.index.json}) whose {@code weight_map} maps each tensor name to the shard file
 * holding it. Opening validates everything up front: every shard named exists (within the index's folder)
 * and is a valid safetensors file, and every tensor is in the shard the index names. Tensors a shard holds
 * beyond its index entries are not exposed.
 *
 * @since 0.1.0
 */
public final class ShardedSafetensors implements SafetensorsSource {

  /** Largest index file accepted, in bytes. */
  public static final long MAX_INDEX_BYTES = 64L << 20;

  private final Path index;
  private final Map<String, SafetensorsFile> shardOf; // tensor name -> its shard, in index order
  private final List<SafetensorsFile> shards; // in order of first mention

  private ShardedSafetensors(
      Path index, Map<String, SafetensorsFile> shardOf, List<SafetensorsFile> shards) {
    this.index = index;
    this.shardOf = shardOf;
    this.shards = shards;
  }

  /**
   * Opens a sharded checkpoint from its index file.
   *
   * @throws SafetensorsFormatException if the index is malformed, names a missing shard or a tensor its
   *     shard lacks, or a shard is malformed
   */
  public static ShardedSafetensors open(Path index) throws IOException {
    JsonNode root = JsonFiles.readTree(index, MAX_INDEX_BYTES, SafetensorsFormatException::new);
    JsonNode weightMap = root.get("weight_map");
    if (weightMap == null || !weightMap.isObject()) {
      throw new SafetensorsFormatException(index, "weight_map", "missing or not an object");
    }
    Path folder = index.toAbsolutePath().normalize().getParent();
    Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
    Map<String, SafetensorsFile> shardOf = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, JsonNode> entry : weightMap.properties()) {
        String tensor = entry.getKey();
        if (!entry.getValue().isTextual()) {
          throw new SafetensorsFormatException(index, tensor, "shard name is not a string");
        }
        String shardName = entry.getValue().asText();
        SafetensorsFile shard = opened.get(shardName);
        if (shard == null) {
          Path shardPath = resolveShard(index, folder, tensor, shardName);
          shard = SafetensorsFile.open(shardPath);
          opened.put(shardName, shard);
        }
        if (!shard.contains(tensor)) {
          throw new SafetensorsFormatException(
              index, tensor, "the index puts this tensor in " + shardName + ", which does not hold it");
        }
        shardOf.put(tensor, shard);
      }
    } catch (IOException | RuntimeException e) {
      for (SafetensorsFile shard : opened.values()) {
        try {
          shard.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
    return new ShardedSafetensors(
        index, Collections.unmodifiableMap(shardOf), List.copyOf(opened.values()));
  }

  private static Path resolveShard(Path index, Path folder, String tensor, String shardName)
      throws SafetensorsFormatException {
    Path shardPath;
    try {
      shardPath = folder.resolve(shardName).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      throw new SafetensorsFormatException(index, tensor, "invalid shard name \"" + shardName + "\"", e);
    }
    // An index must not reach files outside its own folder.
    if (shardName.isEmpty() || !folder.equals(shardPath.getParent())) {
      throw new SafetensorsFormatException(
          index, tensor, "shard \"" + shardName + "\" is not a file name in the index's folder");
    }
    if (!Files.isRegularFile(shardPath)) {
      throw new SafetensorsFormatException(
          index, tensor, "shard " + shardName + " named for this tensor does not exist");
    }
    return shardPath;
  }

  @Override
  public Path file() {
    return index;
  }

  /** The shard files, in order of first mention in the index. */
  public List<Path> shardFiles() {
    List<Path> files = new ArrayList<>();
    for (SafetensorsFile shard : shards) {
      files.add(shard.file());
    }
    return files;
  }

  @Override
  public Map<String, String> metadata() {
    return shards.isEmpty() ? Map.of() : shards.get(0).metadata();
  }

  @Override
  public List<String> tensorNames() {
    return List.copyOf(shardOf.keySet());
  }

  @Override
  public boolean contains(String name) {
    return shardOf.containsKey(name);
  }

  @Override
  public SafetensorsTensorInfo info(String name) throws SafetensorsFormatException {
    return shard(name).info(name);
  }

  @Override
  public float[] readFloats(String name) throws IOException {
    return shard(name).readFloats(name);
  }

  @Override
  public double[] readDoubles(String name) throws IOException {
    return shard(name).readDoubles(name);
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (SafetensorsFile shard : shards) {
      try {
        shard.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private SafetensorsFile shard(String name) throws SafetensorsFormatException {
    SafetensorsFile shard = shardOf.get(name);
    if (shard == null) {
      throw new SafetensorsFormatException(index, name, "no tensor of this name in the index");
    }
    return shard;
  }
}
