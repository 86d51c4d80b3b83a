package org.rankadaptor;

/** Base of the unchecked exceptions this library throws for bad input or broken state. */
public class RankAdaptorException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public RankAdaptorException(String message) {
    super(message);
  }

  public RankAdaptorException(String message, Throwable cause) {
    super(message, cause);
  }
}
