package org.rankadaptor.dl4j.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Read access to the tensors of a safetensors checkpoint, one tensor at a time, whether it is one file
 * ({@link SafetensorsFile}) or several shards behind a {@code model.safetensors.index.json}
 * ({@link ShardedSafetensors}). Only the requested tensor is ever held in memory, so a checkpoint may be
 * larger than the heap. Implementations are safe for concurrent reads.
 *
 * @since 0.1.0
 */
public interface SafetensorsSource extends Closeable {

  /** Name of the single-file checkpoint in a Hugging Face model folder. */
  String SINGLE_FILE_NAME = "model.safetensors";

  /** Name of the index of a sharded checkpoint in a Hugging Face model folder. */
  String INDEX_FILE_NAME = "model.safetensors.index.json";

  /**
   * Opens a checkpoint: a {@code .safetensors} file, a {@code *.index.json} shard index, or a folder
   * holding {@value #INDEX_FILE_NAME} or {@value #SINGLE_FILE_NAME} (the index wins when both exist).
   *
   * @throws SafetensorsFormatException if a file is malformed
   * @throws java.nio.file.NoSuchFileException if nothing to open is found
   */
  static SafetensorsSource open(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      Path index = path.resolve(INDEX_FILE_NAME);
      if (Files.exists(index)) {
        return ShardedSafetensors.open(index);
      }
      Path single = path.resolve(SINGLE_FILE_NAME);
      if (!Files.exists(single)) {
        throw new java.nio.file.NoSuchFileException(
            single.toString(), null, "folder holds neither " + INDEX_FILE_NAME + " nor " + SINGLE_FILE_NAME);
      }
      return SafetensorsFile.open(single);
    }
    if (path.getFileName() != null && path.getFileName().toString().endsWith(".index.json")) {
      return ShardedSafetensors.open(path);
    }
    return SafetensorsFile.open(path);
  }

  /** The file this source was opened from (the index for a sharded checkpoint). */
  Path file();

  /** The header's {@code __metadata__} (for shards, the first shard's); empty if absent. */
  Map<String, String> metadata();

  /** Names of all tensors, in data order (for shards, shard by shard in index order). */
  List<String> tensorNames();

  /** Whether a tensor of this name exists. */
  boolean contains(String name);

  /**
   * The header entry of a tensor.
   *
   * @throws SafetensorsFormatException if there is no tensor of this name
   */
  SafetensorsTensorInfo info(String name) throws SafetensorsFormatException;

  /**
   * Reads a tensor's elements, row-major, converting F64, F32, F16 or BF16 to float (F64 rounds).
   *
   * @throws SafetensorsFormatException if the tensor is absent, of another dtype, has more elements than a
   *     Java array holds, or the file was truncated after opening
   */
  float[] readFloats(String name) throws IOException;

  /** As {@link #readFloats}, to double (exact for every supported dtype). */
  double[] readDoubles(String name) throws IOException;
}
