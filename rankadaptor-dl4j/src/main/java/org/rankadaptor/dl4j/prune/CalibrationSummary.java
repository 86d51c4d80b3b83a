package org.rankadaptor.dl4j.prune;

/**
 * The calibration a pruning report rests on.
 *
 * @param samples number of token windows
 * @param length tokens in the longest window
 * @param fingerprint SHA-256 of the windows' token ids
 * @since 0.1.0
 */
public record CalibrationSummary(int samples, int length, String fingerprint) {}
