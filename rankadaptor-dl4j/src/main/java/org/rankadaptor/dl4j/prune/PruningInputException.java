package org.rankadaptor.dl4j.prune;

/**
 * A pruning request that cannot be carried out: a ratio outside its range, a layer range outside the
 * model, calibration text too short for one sample, and the like. The message names the offending value.
 *
 * @since 0.1.0
 */
public class PruningInputException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  /** An exception with a message that names the offending value. */
  public PruningInputException(String message) {
    super(message);
  }
}
