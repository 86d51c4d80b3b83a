package org.rankadaptor;

/**
 * An observation store that cannot be read or written: the message names the file and line.
 *
 * @since 0.1.0
 */
public final class ObservationStoreException extends RankAdaptorException {
  private static final long serialVersionUID = 1L;

  public ObservationStoreException(String message) {
    super(message);
  }

  public ObservationStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
