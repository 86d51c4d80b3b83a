package org.rankadaptor.dl4j.eval;

import java.nio.file.Path;
import org.rankadaptor.RankAdaptorException;

/**
 * A task file that cannot be read as its format: the message names the file, the item or line, and the field.
 *
 * @since 0.1.0
 */
public final class TaskFormatException extends RankAdaptorException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  /** Where in the file, such as an item index. */
  private final String location;
  /** The field at fault. */
  private final String field;

  /**
   * @param file the file being read
   * @param location where in it, such as {@code line 12} or {@code item 7}; empty for the whole file
   * @param field the field at fault; empty when not one field
   * @param problem what is wrong
   */
  public TaskFormatException(Path file, String location, String field, String problem) {
    this(file, location, field, problem, null);
  }

  /**
   * A problem in a task file.
   *
   * @param file the file
   * @param location where in it, such as an item index
   * @param field the field at fault
   * @param problem what is wrong
   * @param cause what went wrong underneath, or null
   */
  public TaskFormatException(Path file, String location, String field, String problem, Throwable cause) {
    super(message(file, location, field, problem), cause);
    this.file = file;
    this.location = location == null ? "" : location;
    this.field = field == null ? "" : field;
  }

  private static String message(Path file, String location, String field, String problem) {
    StringBuilder sb = new StringBuilder().append(file);
    if (location != null && !location.isEmpty()) {
      sb.append(", ").append(location);
    }
    if (field != null && !field.isEmpty()) {
      sb.append(", field '").append(field).append('\'');
    }
    return sb.append(": ").append(problem).toString();
  }

  /** The file being read. */
  public Path file() {
    return file;
  }

  /** Where in the file, such as {@code line 12} or {@code item 7}; empty for the whole file. */
  public String location() {
    return location;
  }

  /** The field at fault; empty when not one field. */
  public String field() {
    return field;
  }
}
