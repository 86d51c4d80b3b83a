package org.rankadaptor.dl4j.prune;

/**
 * A removable unit and its importance score.
 *
 * @param index the unit's index in the original model: a key/value head, an MLP channel or a block
 * @param score its importance; lower is removed first
 */
public record ScoredUnit(int index, double score) {}
