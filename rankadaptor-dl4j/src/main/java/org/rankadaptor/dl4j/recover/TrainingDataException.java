package org.rankadaptor.dl4j.recover;

import java.nio.file.Path;
import org.rankadaptor.RankAdaptorException;

/**
 * A training-data file that cannot be read as its format: the message names the file, the record and the field.
 *
 * @since 0.1.0
 */
public final class TrainingDataException extends RankAdaptorException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  /** Where in the data, such as a record index. */
  private final String location;
  /** The field at fault. */
  private final String field;

  /**
   * @param file the file being read
   * @param location where in it, such as {@code record 12}; empty for the whole file
   * @param field the field at fault; empty when not one field
   * @param problem what is wrong
   * @param cause the underlying failure, or null
   */
  public TrainingDataException(Path file, String location, String field, String problem, Throwable cause) {
    super(file + (location.isEmpty() ? "" : ", " + location)
        + (field.isEmpty() ? "" : ", field '" + field + "'") + ": " + problem, cause);
    this.file = file;
    this.location = location;
    this.field = field;
  }

  /** The file being read. */
  public Path file() {
    return file;
  }

  /** Where in the file, such as {@code record 12}; empty for the whole file. */
  public String location() {
    return location;
  }

  /** The field at fault; empty when not one field. */
  public String field() {
    return field;
  }
}
