package org.rankadaptor.replay;

import org.rankadaptor.RankAdaptorException;

/**
 * A recovery table file that cannot be read or is malformed; the message names the file and line.
 *
 * @since 0.1.0
 */
public final class RecoveryTableException extends RankAdaptorException {
  private static final long serialVersionUID = 1L;

  public RecoveryTableException(String message, Throwable cause) {
    super(message, cause);
  }
}
