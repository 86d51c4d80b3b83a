/**
 * Search strategies measured offline: a {@link org.rankadaptor.replay.RecoveryTable} of real recoveries
 * replayed as a {@link org.rankadaptor.RecoveryRunner} and an {@link org.rankadaptor.Evaluator}, so that
 * strategies can be compared on the same recoveries, many search seeds over, without a fine-tune.
 */
package org.rankadaptor.replay;
