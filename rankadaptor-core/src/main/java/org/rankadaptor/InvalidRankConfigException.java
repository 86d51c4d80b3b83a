package org.rankadaptor;

/**
 * A rank vector that does not belong to a {@link RankSpace}: wrong length, a rank outside a layer's
 * candidates, a pinned layer with another rank, or over the parameter budget. The message names the
 * layer and the value.
 *
 * @since 0.1.0
 */
public final class InvalidRankConfigException extends RankAdaptorException {
  private static final long serialVersionUID = 1L;

  /**
   * An exception with its message.
   *
   * @param message what is wrong with the configuration, naming the layer
   */
  public InvalidRankConfigException(String message) {
    super(message);
  }
}
