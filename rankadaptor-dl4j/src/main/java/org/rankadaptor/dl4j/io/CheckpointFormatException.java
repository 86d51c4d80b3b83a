package org.rankadaptor.dl4j.io;

import java.nio.file.Path;

/**
 * A llama2.c model or tokenizer file whose bytes do not describe what its format promises: a truncated
 * file, a header field out of range, a length that points past the end. {@link #item()} names the header
 * field or tensor at fault when the problem concerns one; the message always names the file.
 *
 * @since 0.1.0
 */
public class CheckpointFormatException extends FileFormatException {

  private static final long serialVersionUID = 1L;

  /**
   * @param file the offending file
   * @param problem what is wrong, naming the field or tensor and the value found
   */
  public CheckpointFormatException(Path file, String problem) {
    super(file, null, problem);
  }

  /**
   * @param file the offending file
   * @param item the header field or tensor the problem concerns, or null when it concerns the whole file
   * @param problem what is wrong, with the value found
   */
  public CheckpointFormatException(Path file, String item, String problem) {
    super(file, item, problem);
  }
}
