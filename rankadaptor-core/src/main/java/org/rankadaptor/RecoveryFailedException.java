package org.rankadaptor;

/**
 * A recovery that could not produce a usable model, such as a fine-tune whose loss became NaN or
 * exploded. The search records it as a failed observation and goes on; any other exception stops the
 * search (after everything measured so far has been stored).
 *
 * @since 0.1.0
 */
public final class RecoveryFailedException extends RankAdaptorException {
  private static final long serialVersionUID = 1L;

  /**
   * An exception with its message.
   *
   * @param message why the recovery produced no usable model
   */
  public RecoveryFailedException(String message) {
    super(message);
  }

  /**
   * An exception with its message and cause.
   *
   * @param message why the recovery produced no usable model
   * @param cause what went wrong underneath
   */
  public RecoveryFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
