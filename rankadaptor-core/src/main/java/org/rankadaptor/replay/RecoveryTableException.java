package org.rankadaptor.replay;

import org.rankadaptor.RankAdaptorException;

/**
 * A recovery table file that cannot be read or is malformed; the message names the file and line.
 *
 * @since 0.1.0
 */
public final class RecoveryTableException extends RankAdaptorException {
  private static final long serialVersionUID = 1L;

  /**
   * An exception with its message and cause.
   *
   * @param message what is wrong with the table, naming the file and line
   * @param cause what went wrong underneath
   */
  public RecoveryTableException(String message, Throwable cause) {
    super(message, cause);
  }
}
