package org.rankadaptor;

/**
 * Base of the unchecked exceptions this library throws for bad input or broken state.
 *
 * @since 0.1.0
 */
public class RankAdaptorException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * An exception with its message.
   *
   * @param message what went wrong
   */
  public RankAdaptorException(String message) {
    super(message);
  }

  /**
   * An exception with its message and cause.
   *
   * @param message what went wrong
   * @param cause what went wrong underneath
   */
  public RankAdaptorException(String message, Throwable cause) {
    super(message, cause);
  }
}
