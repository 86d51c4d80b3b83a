package org.rankadaptor.dl4j.io;

import java.nio.file.Path;

/**
 * A safetensors file or a sharded checkpoint's index is malformed: bad header length, invalid header JSON,
 * unknown dtype, bad shape or offsets, a tensor missing from its shard. {@link #item()} names the tensor or
 * header field when the problem concerns one.
 *
 * @since 0.1.0
 */
public class SafetensorsFormatException extends FileFormatException {

  private static final long serialVersionUID = 1L;

  /**
   * @param file the offending file
   * @param item the tensor or header field concerned, or null when it concerns the whole file
   * @param problem what is wrong
   */
  public SafetensorsFormatException(Path file, String item, String problem) {
    super(file, item, problem);
  }

  /** As {@link #SafetensorsFormatException(Path, String, String)}, keeping the underlying cause. */
  public SafetensorsFormatException(Path file, String item, String problem, Throwable cause) {
    super(file, item, problem, cause);
  }
}
