package org.rankadaptor;

/**
 * Base of the unchecked exceptions this library throws for bad input or broken state.
 *
 * @since 0.1.0
 */
public class RankAdaptorException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public RankAdaptorException(String message) {
    super(message);
  }

  public RankAdaptorException(String message, Throwable cause) {
    super(message, cause);
  }
}
