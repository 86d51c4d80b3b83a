package org.rankadaptor.dl4j.prune;

import java.util.Objects;

/**
 * What {@link DepthPruner} does.
 *
 * @param criterion how blocks are scored
 * @param blocksToRemove how many blocks go, at least 1
 * @param keepFirst leading blocks that are never removed (Shortened LLaMA's "+" rule: 4)
 * @param keepLast trailing blocks that are never removed (the "+" rule: 2)
 * @since 0.1.0
 */
public record DepthPruningSettings(
    BlockImportance criterion, int blocksToRemove, int keepFirst, int keepLast) {

  /** Shortened LLaMA's "+" rule: the first four and last two blocks stay. */
  public static final int PLUS_KEEP_FIRST = 4;

  /** See {@link #PLUS_KEEP_FIRST}. */
  public static final int PLUS_KEEP_LAST = 2;

  /**
   * Validates what does not depend on the model.
   *
   * @throws PruningInputException when a count is negative or nothing would be removed
   */
  public DepthPruningSettings {
    Objects.requireNonNull(criterion, "criterion");
    if (blocksToRemove < 1) {
      throw new PruningInputException("blocks to remove must be at least 1, got " + blocksToRemove);
    }
    if (keepFirst < 0 || keepLast < 0) {
      throw new PruningInputException(
          "protected block counts must not be negative: keepFirst " + keepFirst + ", keepLast " + keepLast);
    }
  }

  /** Removes {@code blocks} blocks under the "+" rule (Taylor+ or PPL+ in Shortened LLaMA). */
  public static DepthPruningSettings plus(BlockImportance criterion, int blocks) {
    return new DepthPruningSettings(criterion, blocks, PLUS_KEEP_FIRST, PLUS_KEEP_LAST);
  }
}
