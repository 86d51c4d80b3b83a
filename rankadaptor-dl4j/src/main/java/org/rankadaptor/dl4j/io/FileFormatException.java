package org.rankadaptor.dl4j.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A file is not what its format requires. The message names the file and, when known, the item within it
 * (a tensor, a JSON field, a token) that is wrong, so that a user can find the problem without a debugger.
 *
 * @since 0.1.0
 */
public class FileFormatException extends IOException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;
  /** The item at fault (a tensor, key or entry), when one is. */
  private final String item;

  /**
   * @param file the offending file
   * @param item the tensor, field or entry the problem concerns, or null when it concerns the whole file
   * @param problem what is wrong
   */
  public FileFormatException(Path file, String item, String problem) {
    this(file, item, problem, null);
  }

  /** As {@link #FileFormatException(Path, String, String)}, keeping the underlying cause. */
  public FileFormatException(Path file, String item, String problem, Throwable cause) {
    super(file + (item == null ? "" : " [" + item + "]") + ": " + problem, cause);
    this.file = file;
    this.item = item;
  }

  /** The offending file. */
  public Path file() {
    return file;
  }

  /** The tensor, field or entry the problem concerns, if it concerns one. */
  public Optional<String> item() {
    return Optional.ofNullable(item);
  }
}
