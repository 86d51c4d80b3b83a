package org.rankadaptor.dl4j.prune;

/**
 * A removable unit and its importance score.
 *
 * @param index the unit's index in the original model: a key/value head, an MLP channel or a block
 * @param score its importance; lower is removed first
 * @since 0.1.0
 */
public record ScoredUnit(int index, double score) {}
