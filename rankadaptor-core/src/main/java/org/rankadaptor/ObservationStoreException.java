package org.rankadaptor;

/**
 * An observation store that cannot be read or written: the message names the file and line.
 *
 * @since 0.1.0
 */
public final class ObservationStoreException extends RankAdaptorException {
  private static final long serialVersionUID = 1L;

  /**
   * An exception with its message.
   *
   * @param message what is wrong with the store, naming the file and line
   */
  public ObservationStoreException(String message) {
    super(message);
  }

  /**
   * An exception with its message and cause.
   *
   * @param message what is wrong with the store, naming the file and line
   * @param cause what went wrong underneath
   */
  public ObservationStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
