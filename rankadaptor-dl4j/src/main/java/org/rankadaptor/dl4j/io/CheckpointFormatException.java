package org.rankadaptor.dl4j.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model or tokenizer file whose bytes do not describe what its format promises: a truncated file, a
 * header field out of range, a length that points past the end. The message names the file and the
 * field or tensor at fault.
 *
 * @since 0.1.0
 */
public class CheckpointFormatException extends IOException {

  /** The checkpoint at fault. */
  private final Path file;

  /**
   * @param file the offending file
   * @param problem what is wrong, naming the field or tensor and the value found
   */
  public CheckpointFormatException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  /** The offending file. */
  public Path file() {
    return file;
  }
}
